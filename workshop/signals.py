"""Signals one feature sends and others subscribe to, so that neither imports the other.

- `stage_saved`: a stage's details were saved (programs, in the caller's transaction, before the
  commit). Sent with the app as sender and `session`, `stage`, `previous_start`, `now`; reminders
  subscribes (its reminders follow a moved start).
- `scheduler_ticked`: the reminder scheduler's periodic job is about to run (reminders' jobs.py),
  sent with the app as sender and `now`, inside an app context; live carries the questions of
  the stages that ended. A receiver commits its own work and never raises.
- `deliveries_changed`: reminders' engine committed deliveries of these stages (`stage_ids`), and
  sent these in-app notices (`notices`: the engine's Outgoing items). Sent with the app as
  sender; reminders' events.py tells the staff screens and the participants over Socket.IO.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()
stage_saved = signals.signal("stage-saved")
deliveries_changed = signals.signal("deliveries-changed")
scheduler_ticked = signals.signal("scheduler-ticked")
