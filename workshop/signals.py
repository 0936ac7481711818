"""Signals one feature sends and others subscribe to, so that neither imports the other.

- `stage_saved`: a stage's details were saved (programs, in the caller's transaction, before the
  commit). Sent with the app as sender and `session`, `stage`, `previous_start`, `now`; reminders
  subscribes (its reminders follow a moved start).
- `deliveries_changed`: reminders' engine committed deliveries of these stages (`stage_ids`), and
  sent these in-app notices (`notices`: the engine's Outgoing items). Sent with the app as
  sender; reminders' events.py tells the staff screens and the participants over Socket.IO.
- `reminders_due`: the reminder engine's tick expands what is due (reminders, in the tick's
  transaction, before its commit). Sent with `session` and `now`; a feature with reminders of its
  own queues their deliveries then and returns how many (assignments: their deadlines; live: the
  notices of the questions it carries to the next stage when a stage has ended; whatsapp forgets
  old inbound messages and queues nothing).
- `poll_opened`: live opened a poll (in the facilitator's transaction, before the commit). Sent
  with the app as sender and `session`, `poll`, `now`; whatsapp subscribes (it queues the question
  to the stage's participants on WhatsApp) and returns how many messages it queued, so that the
  view wakes the reminder engine once committed.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()
stage_saved = signals.signal("stage-saved")
deliveries_changed = signals.signal("deliveries-changed")
reminders_due = signals.signal("reminders-due")
poll_opened = signals.signal("poll-opened")
