"""The web processes' shared tallies, in the Redis of SOCKETIO_MESSAGE_QUEUE.

One process at a time leads, on a lease it renews at every broadcast tick: it closes the polls
whose countdown ran out and counts the tallies of every poll in play, then stores each stage's
results messages here. Every other process reads them at its ticks and sends those that moved to
its own clients. A vote is so read and counted once in the cluster, not once per process. Each
process also notes its number of sockets, so that the leader paces its ticks by the audience of
them all.

Plain reads and writes, no publish: a process that lost Redis for a while finds the latest results
when it is back. When Redis does not answer, the broadcaster counts for its own clients from the
database, as a process alone does (workshop/live/broadcast.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Collection
from typing import NamedTuple

from workshop.extensions import REDIS_SCHEMES, redis_client

TIMEOUT = 0.5  # seconds: a tick does not wait longer for Redis
LEADER = "bimtek:live:leader"
SOCKETS = "bimtek:live:sockets"  # process -> "<sockets> <until, ms>"
RESULTS = "bimtek:live:results:"  # + stage id: poll id -> the results message to send (JSON)
SOCKETS_FRESH = 15.0  # seconds a process's socket count stands without a newer one
RESULTS_KEPT = 300.0  # seconds: longer than polls stay in play once closed

# Take the lease when it is free or ours, and keep it for ARGV[2] ms.
CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""


class Tick(NamedTuple):
    leads: bool  # this process
    sockets: int  # of all processes
    results: dict[int, bytes]  # the results messages stored for the stages asked, by poll (JSON)


class Cluster:
    def __init__(self, url: str):
        self.me = uuid.uuid4().hex
        self.redis = redis_client(url, TIMEOUT)
        self._claim = self.redis.register_script(CLAIM)

    def tick(self, sockets: int, lease: float, stage_ids: Collection[int]) -> Tick:
        """Note this process's sockets, claim the lead for `lease` seconds, and read the results
        stored for these stages: one round trip."""
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        self._claim(keys=[LEADER], args=[self.me, int(lease * 1000)], client=pipe)
        pipe.hset(SOCKETS, self.me, f"{sockets} {int((now + SOCKETS_FRESH) * 1000)}")
        pipe.hgetall(SOCKETS)
        for stage_id in stage_ids:
            pipe.hgetall(f"{RESULTS}{stage_id}")
        leads, _noted, counts, *stored = pipe.execute()
        total, gone = 0, []
        for process, value in counts.items():
            count, until = value.split()
            if int(until) < now * 1000:
                gone.append(process)
            else:
                total += int(count)
        if gone:
            self.redis.hdel(SOCKETS, *gone)
        results = {int(poll_id): raw for polls in stored for poll_id, raw in polls.items()}
        return Tick(bool(leads), total, results)

    def store(self, stages: dict[int, dict[int, dict]]) -> None:
        """Replace each of these stages' results messages (poll id -> message) with these."""
        pipe = self.redis.pipeline()  # one transaction: a reader sees a stage's whole set
        for stage_id, polls in stages.items():
            key = f"{RESULTS}{stage_id}"
            pipe.delete(key)
            if polls:
                pipe.hset(
                    key, mapping={str(poll_id): json.dumps(shared) for poll_id, shared in polls.items()}
                )
                pipe.pexpire(key, int(RESULTS_KEPT * 1000))
        pipe.execute()


def cluster_of(message_queue: str | None) -> Cluster | None:
    """The cluster of processes sharing this Socket.IO message queue, if it is a Redis."""
    if message_queue and message_queue.startswith(REDIS_SCHEMES):
        return Cluster(message_queue)
    return None
