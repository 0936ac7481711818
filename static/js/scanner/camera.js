// The camera: frames read with the browser's BarcodeDetector where it reads QR codes, else the
// barcode-detector polyfill (ZXing in WebAssembly, both from static/vendor, never from its CDN).

import { config, el, T } from "./page.js";
import { loadSetting, saveSetting } from "./storage.js";

const CAMERA_INTERVAL_MS = 150;
let onCode = null; // (text) => a scan, set by main.js
let busy = () => false; // whether a scan is being processed

/** Wire the camera button; `scan(text)` gets each code read, unless `processing()` says a scan is
 * still under way. Starts the camera if it was on last time. */
export function startCameraControls(scan, processing) {
  onCode = scan;
  busy = processing;
  el.cameraToggle.addEventListener("click", () => {
    if (stream) {
      stopCamera();
      saveSetting("camera", "off");
    } else {
      startCamera();
    }
  });
  if (allowed && loadSetting("camera", "off") === "on") {
    startCamera();
  }
}

let allowed = true;

/** Outside the check-in windows the camera is off (main.js): it comes back on when they open again if
 * it was on. */
export function allowCamera(allow) {
  allowed = allow;
  if (!allow && stream) {
    stopCamera();
  } else if (allow && !stream && onCode && loadSetting("camera", "off") === "on") {
    startCamera();
  }
}

let stream = null;
let decoder = null;

// The same API either way: the browser's own BarcodeDetector where it reads QR codes, else the
// barcode-detector polyfill (ZXing in WebAssembly, both from static/vendor, never from its CDN).
async function qrDetector() {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        return { name: "native", detector: new window.BarcodeDetector({ formats: ["qr_code"] }) };
      }
    } catch {
      // fall through to the polyfill
    }
  }
  const { BarcodeDetector, prepareZXingModule } = await import(config.urls.barcodeDetector);
  const wasm = new URL(config.urls.zxingWasm, location.href).href;
  await prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) },
    fireImmediately: true, // load it now: a frame decoded later does not wait for it
  });
  return { name: "polyfill", detector: new BarcodeDetector({ formats: ["qr_code"] }) };
}

async function makeDecoder() {
  const { name, detector } = await qrDetector();
  return {
    name,
    decode: async (source) => {
      try {
        const codes = await detector.detect(source);
        return codes.length ? codes[0].rawValue : null;
      } catch {
        return null; // a frame that cannot be read
      }
    },
  };
}

function cameraMessage(text) {
  el.cameraMessage.textContent = text;
  el.cameraMessage.hidden = !text;
}

async function startCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    cameraMessage(T.cameraNone);
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
  } catch {
    stream = null;
    cameraMessage(T.cameraError);
    saveSetting("camera", "off");
    return;
  }
  cameraMessage("");
  el.video.srcObject = stream;
  el.cameraFrame.hidden = false;
  el.cameraToggle.textContent = T.cameraStop;
  saveSetting("camera", "on");
  try {
    await el.video.play();
    decoder = decoder || (await makeDecoder());
  } catch {
    stopCamera();
    cameraMessage(T.cameraError);
    return;
  }
  el.camera.dataset.decoder = decoder.name;
  scanFrames(stream);
}

function stopCamera() {
  if (stream) {
    for (const track of stream.getTracks()) {
      track.stop();
    }
  }
  stream = null;
  el.video.srcObject = null;
  el.cameraFrame.hidden = true;
  el.cameraToggle.textContent = T.cameraStart;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function scanFrames(own) {
  while (stream === own) {
    if (!busy() && el.result.hidden && el.video.readyState >= 2) {
      const text = await decoder.decode(el.video);
      if (text && stream === own && !busy() && el.result.hidden) {
        await onCode(text);
      }
    }
    await sleep(CAMERA_INTERVAL_MS);
  }
}
