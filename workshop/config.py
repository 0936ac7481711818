"""Settings from environment variables, validated at start-up."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEV_SECRET_KEY = "dev-secret-key-change-me"  # the key of earlier versions: refused in production
SECRET_KEY_FILE = "secret_key"  # in the instance folder, made on first run outside production
PROJECT_ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    pass


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(environ: dict[str, str] | None = None) -> dict:
    env = os.environ if environ is None else environ
    instance_db = PROJECT_ROOT / "instance" / "bimtek.sqlite3"
    production = env.get("BIMTEK_ENV", "development") == "production"
    cookie_secure = _bool(env.get("COOKIE_SECURE"), production)
    return {
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", f"sqlite:///{instance_db}"),
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Asia/Jakarta"),
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        # A Redis that is down must not make every login fail: count in memory meanwhile.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # Personal links are limited per link (LOGIN_RATE_LIMIT) and, generously, per address: a
        # hall's Wi-Fi or a village office puts a hundred people behind one address.
        "LINK_ADDRESS_RATE_LIMIT": env.get("LINK_ADDRESS_RATE_LIMIT", "600 per minute"),
        # The public registration form: per address, and per programme (spam from many addresses).
        "REGISTRATION_RATE_LIMIT": env.get("REGISTRATION_RATE_LIMIT", "60 per hour"),
        "REGISTRATION_PROGRAM_RATE_LIMIT": env.get("REGISTRATION_PROGRAM_RATE_LIMIT", "600 per hour"),
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE") or None,
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "").rstrip("/"),
        # Request bodies: forms and JSON at most MAX_BODY_BYTES (workshop/bodies.py); a roster or
        # meeting-report file MAX_UPLOAD_BYTES, read only after the permission check (workshop/uploads.py).
        "MAX_CONTENT_LENGTH": _int(env, "MAX_BODY_BYTES", 64 * 1024),
        "MAX_UPLOAD_BYTES": _int(env, "MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
        # Cookies only over HTTPS (default in production; COOKIE_SECURE=0 for a plain-HTTP LAN).
        "COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Rendered page fragments, in each process's memory; their keys name what they show.
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": 3600,
        "CACHE_THRESHOLD": 2000,
        # Reminders: without SMTP_HOST / WHATSAPP_API_URL messages go to the dev outbox.
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": _int(env, "SMTP_PORT", 587),
        "SMTP_USE_TLS": _bool(env.get("SMTP_USE_TLS"), True),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": _number(env, "SMTP_TIMEOUT", 30.0),
        "MAIL_FROM": env.get("MAIL_FROM", ""),
        "WHATSAPP_PROVIDER": env.get("WHATSAPP_PROVIDER", "fonnte").strip().lower(),
        "WHATSAPP_API_URL": env.get("WHATSAPP_API_URL", ""),
        "WHATSAPP_TOKEN": env.get("WHATSAPP_TOKEN", ""),
        "WHATSAPP_META_TEMPLATE": env.get("WHATSAPP_META_TEMPLATE", ""),
        "WHATSAPP_META_LANGUAGE": env.get("WHATSAPP_META_LANGUAGE", "id"),
        "WHATSAPP_TIMEOUT": _number(env, "WHATSAPP_TIMEOUT", 10.0),
        # Replies by WhatsApp (workshop/whatsapp): the secret in Fonnte's webhook URL, Meta's verify
        # token and app secret (X-Hub-Signature-256), the words that start a question ("T: ...").
        "WHATSAPP_WEBHOOK_TOKEN": env.get("WHATSAPP_WEBHOOK_TOKEN", ""),
        "WHATSAPP_META_VERIFY_TOKEN": env.get("WHATSAPP_META_VERIFY_TOKEN", ""),
        "WHATSAPP_META_APP_SECRET": env.get("WHATSAPP_META_APP_SECRET", ""),
        "WHATSAPP_QUESTION_KEYWORDS": [
            word.strip()
            for word in env.get("WHATSAPP_QUESTION_KEYWORDS", "T,Tanya,Q").split(",")
            if word.strip()
        ],
        # Inbound messages are kept this many days (their ids make a gateway's repeat count once:
        # Meta retries a webhook for up to 7 days); unknown numbers answered per hour at most.
        "WHATSAPP_INBOUND_KEEP_DAYS": _int(env, "WHATSAPP_INBOUND_KEEP_DAYS", 30),
        "WHATSAPP_STRANGER_REPLIES_PER_HOUR": _int(env, "WHATSAPP_STRANGER_REPLIES_PER_HOUR", 30),
        # Reminder engine: `python app.py` runs the scheduler unless EMBEDDED_SCHEDULER=0 (then
        # run `flask scheduler` as its own process); see workshop/reminders/jobs.py.
        "EMBEDDED_SCHEDULER": _bool(env.get("EMBEDDED_SCHEDULER"), True),
        "REMINDER_TICK_SECONDS": _int(env, "REMINDER_TICK_SECONDS", 30),
        "REMINDER_BATCH_SIZE": _int(env, "REMINDER_BATCH_SIZE", 50),
        # SMTP connections a drain sends over at once (each from its own sender thread).
        "REMINDER_SENDERS": _int(env, "REMINDER_SENDERS", 4),
        "REMINDER_LEASE_SECONDS": _int(env, "REMINDER_LEASE_SECONDS", 300),
        "REMINDER_MAX_ATTEMPTS": _int(env, "REMINDER_MAX_ATTEMPTS", 5),
        "REMINDER_RETRY_SECONDS": _int(env, "REMINDER_RETRY_SECONDS", 60),
        # Live Q&A and polls: how often changed state and tallies are broadcast (0: at every
        # change, for tests), whether votes are written in batches, questions per person a minute.
        "LIVE_BROADCAST_SECONDS": _number(env, "LIVE_BROADCAST_SECONDS", 0.3),
        "LIVE_VOTE_BATCHING": _bool(env.get("LIVE_VOTE_BATCHING"), True),
        "LIVE_QUESTIONS_PER_MINUTE": _int(env, "LIVE_QUESTIONS_PER_MINUTE", 3),
        # Production serving: how many reverse proxies in front set X-Forwarded-For/-Proto/-Host
        # (0: none, trust no such header; 1: one nginx), and the log format on stderr.
        "PROXY_FIX_HOPS": _int(env, "PROXY_FIX_HOPS", 0),
        "LOG_FORMAT": env.get("LOG_FORMAT", "plain").strip().lower() or "plain",
        # Where `flask backup` writes its timestamped files (and `flask restore` its safety copy).
        "BACKUP_DIR": env.get("BACKUP_DIR") or str(PROJECT_ROOT / "instance" / "backups"),
        # The files organisations hand in for assignments (outside the web root; served as downloads).
        "ASSIGNMENT_FILES_DIR": env.get("ASSIGNMENT_FILES_DIR")
        or str(PROJECT_ROOT / "instance" / "assignment-files"),
        # The certificates' ZIP of each programme (one database's: two databases need two folders).
        "CERTIFICATE_DIR": env.get("CERTIFICATE_DIR") or str(PROJECT_ROOT / "instance" / "certificates"),
    }


def _int(env, name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def _number(env, name: str, default: float) -> float:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}") from None


def instance_secret_key(instance_path: Path) -> str:
    """Outside production without SECRET_KEY: the key in instance/secret_key, made (random, readable
    by this user only) on first run, so that no two installations share a key that anyone can read
    in the source. Said at every start-up."""
    path = Path(instance_path) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made on an earlier run (or by another process just now)
        key = path.read_text().strip()
    else:
        key = secrets.token_urlsafe(48)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key + "\n")
    if not key:
        raise ConfigError(f"{path} is empty: delete it (a new key is made) or set SECRET_KEY")
    log.warning("SECRET_KEY is not set: using the key in %s (set SECRET_KEY in production)", path)
    return key


def validate(config: dict) -> None:
    """Refuse to start with settings that would be unsafe or broken."""
    production = config["ENV_NAME"] == "production"
    if production and config["SECRET_KEY"] in {"", DEV_SECRET_KEY}:
        raise ConfigError("SECRET_KEY must be set to a long random value in production")
    base_url = config.get("PUBLIC_BASE_URL") or ""
    if base_url and not base_url.startswith(("https://", "http://")):
        raise ConfigError(f"PUBLIC_BASE_URL must be an http(s) address, not {base_url!r}")
    if production and not base_url:
        raise ConfigError(
            "PUBLIC_BASE_URL (e.g. https://bimtek.tapanuliutarakab.go.id) must be set in production: "
            "reminders sent by the scheduler carry personal links, which need the full address"
        )
    try:
        ZoneInfo(config["DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"DEFAULT_TIMEZONE is not a known time zone: {error}") from error
    if config["MAX_UPLOAD_BYTES"] <= 0:
        raise ConfigError("MAX_UPLOAD_BYTES must be positive")
    if config["MAX_CONTENT_LENGTH"] <= 0:
        raise ConfigError("MAX_BODY_BYTES must be positive")
    _validate_channels(config)
    for name in (
        "REMINDER_TICK_SECONDS",
        "REMINDER_BATCH_SIZE",
        "REMINDER_SENDERS",
        "REMINDER_LEASE_SECONDS",
        "REMINDER_MAX_ATTEMPTS",
    ):
        if config[name] < 1:
            raise ConfigError(f"{name} must be at least 1")
    if config["REMINDER_RETRY_SECONDS"] < 0:
        raise ConfigError("REMINDER_RETRY_SECONDS must not be negative")
    if config["LIVE_BROADCAST_SECONDS"] < 0:
        raise ConfigError("LIVE_BROADCAST_SECONDS must not be negative")
    if config["LIVE_QUESTIONS_PER_MINUTE"] < 1:
        raise ConfigError("LIVE_QUESTIONS_PER_MINUTE must be at least 1")
    if not 0 <= config["PROXY_FIX_HOPS"] <= 5:
        raise ConfigError(
            "PROXY_FIX_HOPS must be 0 (no reverse proxy) or the number of proxies in front (1-5)"
        )
    if config["LOG_FORMAT"] not in {"plain", "json"}:
        raise ConfigError(f"LOG_FORMAT must be 'plain' or 'json', not {config['LOG_FORMAT']!r}")


def _validate_channels(config: dict) -> None:
    port = config.get("SMTP_PORT")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"SMTP_PORT must be a port number (1-65535), not {port!r}")
    if config.get("SMTP_HOST") and "@" not in (config.get("MAIL_FROM") or ""):
        raise ConfigError("MAIL_FROM (e.g. 'Panitia Bimtek <bimtek@example.go.id>') is needed with SMTP_HOST")
    provider = config.get("WHATSAPP_PROVIDER")
    if provider not in {"fonnte", "meta"}:
        raise ConfigError(f"WHATSAPP_PROVIDER must be 'fonnte' or 'meta', not {provider!r}")
    url = config.get("WHATSAPP_API_URL") or ""
    if url and not url.startswith(("https://", "http://")):
        raise ConfigError("WHATSAPP_API_URL must be an http(s) URL")
    if url and provider == "meta" and not config.get("WHATSAPP_META_TEMPLATE"):
        raise ConfigError(
            "WHATSAPP_META_TEMPLATE (an approved template's name) is needed with the meta provider"
        )
    keywords = config.get("WHATSAPP_QUESTION_KEYWORDS")
    if (
        not isinstance(keywords, list)
        or not keywords
        or not all(isinstance(word, str) and word for word in keywords)
    ):
        raise ConfigError("WHATSAPP_QUESTION_KEYWORDS must name at least one word, e.g. 'T,Tanya'")
    if config["WHATSAPP_INBOUND_KEEP_DAYS"] < 7:
        raise ConfigError(
            "WHATSAPP_INBOUND_KEEP_DAYS must be at least 7: a gateway may repeat a message for a week, "
            "and a repeat of a forgotten message would count again"
        )
    if config["WHATSAPP_STRANGER_REPLIES_PER_HOUR"] < 0:
        raise ConfigError("WHATSAPP_STRANGER_REPLIES_PER_HOUR must not be negative (0: never answer them)")
    for name in ("SMTP_TIMEOUT", "WHATSAPP_TIMEOUT"):
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{name} must be a positive number of seconds, not {value!r}")
