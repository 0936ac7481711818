// Drop the rosters this device keeps of some stages (static/js/app.js: at logout, and once a stage
// has ended), with what it knew was checked in. Scans still waiting to be sent stay.

import { keys, remove, unmarkKept } from "./storage.js";

export async function forgetRosters(stageIds) {
  unmarkKept(stageIds);
  await Promise.all(stageIds.flatMap((stageId) => [remove(keys.roster(stageId)), remove(keys.seen(stageId))]));
}
