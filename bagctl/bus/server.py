"""``BusServer``: serve one ``Region`` (a running region, on any runtime) on the management bus.

Two tasks share one MQTT connection. The receiver takes every message on ``cmd/#``, checks it at
once (``payloads.parse_command``: size, JSON, types, nodes and bundles of the topology) and
answers the error on its reply topic or queues the command (bounded: a full queue is answered
``busy``, so a flood costs a reply per message). The worker runs queued commands one at a time,
each to convergence, then replies, appends the command and its result to the JSON-lines event
log, publishes both on ``events``, and refreshes the retained status and per-node state. Nothing
a client sends, and no failure of a shard, can end either task.

A broker that restarts does not stop the region: the connection comes back with
back-off (``mqtt/link.py``), the retained state is published again, and a request id a
client re-sends runs once (``bus/ledger.py``). An outage past ``BROKER_GRACE_S`` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import IO, Any

import aiomqtt

from ..mqtt.broker import BrokerUrl
from ..mqtt.link import MqttLink
from ..mqtt.topics import Topics
from ..runtimes import ConvergenceReport, Region
from ..topology.model import Bundle
from . import links
from .jobs import Job, Jobs
from .ledger import Ledger
from .payloads import (
    DEFAULT_TIMEOUT_S,
    MUTATING,
    QUERIES,
    VERSION,
    BusError,
    Command,
    encode,
    parse_command,
    reply_error,
    reply_ok,
)
from .retained import NodeStates

log = logging.getLogger("bagctl.bus.server")

QUEUE_SIZE = 32
BROKER_GRACE_S = 300.0  # a broker gone longer than this stops the region
REPLY_WAIT_S = 30.0  # a reply waits this long for the broker; then the client asks again
CANCEL_GRACE_S = 1.0


class BusServer:
    """``async with BusServer(runtime, url, log_path) as server``: connected, receiving;
    ``started(report)`` starts the worker; ``await stopped()``: until a shutdown."""

    def __init__(
        self,
        runtime: Region,
        url: BrokerUrl,
        log_path: Path | str,
        *,
        queue_size: int = QUEUE_SIZE,
        client_id: str | None = None,
        info: dict[str, object] | None = None,
    ) -> None:
        self.runtime = runtime
        self.topo = runtime.topo
        self.url = url
        self.topics = Topics(self.topo.name)
        self.log_path = Path(log_path)
        self.info = dict(info or {})  # extra fields of the retained status (pid, broker)
        self.client_id = client_id or f"bagemu-region-{self.topo.name}-{os.getpid()}"
        self._jobs = Jobs(queue_size)
        self._stop = asyncio.Event()
        self._link: MqttLink | None = None
        self._ledger = Ledger()  # request ids taken: none runs twice (bus/ledger.py)
        self._tasks: list[asyncio.Task[None]] = []
        self._log: IO[str] | None = None
        self._seq = 0
        self._last_report: ConvergenceReport | None = None
        self._nodes = NodeStates(runtime, self.topics)  # retained per-node state
        self.state = "starting"
        self.commands_run = 0
        self._failed: dict[str, object] | None = None  # the last change, if it failed

    # --- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> BusServer:
        will = aiomqtt.Will(
            self.topics.status, encode({"v": VERSION, "state": "gone"}), qos=1, retain=True
        )
        link = MqttLink(
            self.url,
            self.client_id,
            on_message=self._on_message,
            will=will,
            give_up_s=BROKER_GRACE_S,
        )
        await link.open()  # no broker: nothing opened here yet
        link.on_reconnect.append(self._republish)
        self._link = link
        # Only the region's user reads what was done to it (mode 0600, like the state file).
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # (an existing file keeps its mode through O_CREAT)
        self._log = os.fdopen(fd, "w", encoding="utf-8")
        for tree in (self.topics.cmd_filter, self.topics.query_filter):
            await link.subscribe(tree, qos=1)
        self._tasks.append(asyncio.create_task(self._watch_broker(link)))
        await self._publish_status()
        return self

    def started(self, report: ConvergenceReport) -> None:
        """The region is up (cold start converged): serve the queued commands."""
        self._last_report = report
        self.state = "running"
        self._event("started", report=report.as_dict())
        self._tasks.append(asyncio.create_task(self._work()))

    def stop(self) -> None:
        self._stop.set()

    async def stopped(self) -> None:
        await self._stop.wait()

    async def __aexit__(self, *exc: object) -> None:
        self.state = "stopping"
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            # Python 3.11's wait_for (in aiomqtt's publish) can swallow a cancellation that
            # comes as its call completes: a task still running is cancelled again.
            while not task.done():
                await asyncio.wait({task}, timeout=CANCEL_GRACE_S)
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        link, self._link = self._link, None  # _event: log only from here on
        if link is not None:
            line = self._event("stopped")
            # Clear what we retained, so a later client does not see a stopped region.
            await link.publish(self.topics.events, line.encode())
            for topic in [self.topics.status, *self._nodes.published]:
                await link.publish(topic, b"", retain=True)
            await link.aclose()
        if self._log is not None:
            self._log.close()

    # --- receiving ----------------------------------------------------------------------

    async def _watch_broker(self, link: MqttLink) -> None:
        """Stop the region once the broker is gone past ``BROKER_GRACE_S`` (for good)."""
        await link.gone.wait()
        if self._link is link:
            log.error("lost the broker at %s for good; stopping", self.url.redacted())
            self._event("broker-lost", error=link.last_error)
            self._stop.set()

    async def _republish(self) -> None:
        """After a reconnection: what a restarted broker has forgotten."""
        assert self._link is not None
        self._event("broker-back", reconnects=self._link.reconnects)
        await self._nodes.republish(self._link)
        await self._publish_status()

    async def _on_message(self, topic: str, payload: object, retain: bool) -> None:
        route = self.topics.parse_request(topic)
        client, request, read_only = route if route is not None else ("", "", False)
        try:
            if route is None:
                raise BusError(
                    "bad-payload",
                    f"{topic}: commands go to {self.topics.base}/cmd/<client-id>/<request-id>",
                )
            if retain:
                raise BusError("bad-payload", "a retained command is not run (republish it)")
            if not isinstance(payload, bytes | bytearray | str):
                payload = b"" if payload is None else str(payload)
            if self._again(client, request):
                return
            command = parse_command(payload, self.topo)
            if read_only and command.name not in QUERIES:
                raise BusError("forbidden", f"{command.name} changes the region: send it on cmd/")
        except BusError as error:
            self._event("rejected", client=client, request=request, error=error.as_dict())
            if route is not None:
                await self._reply(client, request, reply_error(request, error))
            return
        if command.name == "cancel":  # at once: the queue waits behind what it cancels
            reply = self._cancel(command.args.get("request"), request)
            outcome = {k: reply[k] for k in ("ok", "result", "error") if k in reply}
            self._event("cancel", client=client, request=request, **outcome)
            await self._reply(client, request, reply)
            return
        try:
            self._jobs.put(Job(command, client, request))
            self._ledger.taken((client, request))
        except asyncio.QueueFull:
            size = self._jobs.queue.maxsize
            busy = BusError("busy", f"region {self.topo.name} is busy: {size} commands queued")
            self._event("rejected", client=client, request=request, error=busy.as_dict())
            await self._reply(client, request, reply_error(request, busy))

    def _again(self, client: str, request: str) -> bool:
        """A request id seen before (re-sent after a broker restart): never run twice;
        answered again if done, dropped while queued or running (bus/ledger.py)."""
        seen = self._ledger.seen((client, request))
        if seen is not None:
            self._event("duplicate", client=client, request=request, state=seen[0])
            if seen[1] is not None:
                self._spawn(self._reply(client, request, seen[1], keep=False))
        return seen is not None

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    async def _reply(
        self, client: str, request: str, reply: dict[str, object], *, keep: bool = True
    ) -> None:
        """Publish ``reply``, waiting for the broker a while; keep it to answer again."""
        if keep:
            self._ledger.answered((client, request), reply)
        if self._link is not None:
            topic = self.topics.reply(client, request)
            await self._link.publish(topic, encode(reply), wait_s=REPLY_WAIT_S)

    # --- running commands ---------------------------------------------------------------

    def _cancel(self, target: str | None, request: str) -> dict[str, object]:
        """``cancel`` (bus/jobs.py); a flap cancelled brings its bundle back up first."""
        found = self._jobs.cancel(target)
        if found is None:
            what = "no command is running" if target is None else f"no command {target!r}"
            return reply_error(request, BusError("not-found", f"cancel: {what}"))
        return reply_ok(request, {"cancelled": found[0].described(), "was": found[1]})

    async def _work(self) -> None:
        await self._publish_state_safely()
        while True:
            job = await self._jobs.next()
            cmd = job.command
            self._event(
                "command", client=job.client, request=job.request, cmd=cmd.name, args=cmd.args
            )
            task = self._jobs.start(job, self._run(cmd))
            try:
                result = await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # the server is stopping (the command was cancelled with it)
                reply = reply_error(job.request, BusError("cancelled", f"{cmd.name}: cancelled"))
            except BusError as error:
                reply = reply_error(job.request, error)
            except TimeoutError:
                timeout = cmd.args.get("timeout_s", DEFAULT_TIMEOUT_S)
                reply = reply_error(
                    job.request,
                    BusError("timeout", f"{cmd.name}: no convergence within {timeout:g} s"),
                )
            except KeyError as exc:
                reply = reply_error(job.request, BusError("not-found", _message(exc)))
            except ValueError as exc:
                reply = reply_error(job.request, BusError("invalid", _message(exc)))
            except Exception as exc:
                log.exception("%s failed", cmd.name)
                reply = reply_error(
                    job.request, BusError("internal", f"{cmd.name}: {type(exc).__name__}: {exc}")
                )
            else:
                reply = reply_ok(job.request, result)
            finally:
                self._jobs.done()
            self.commands_run += 1
            if cmd.name in MUTATING:  # what ``converge`` reports: this change, not an older one
                self._failed = None if reply["ok"] else {"cmd": cmd.name, "error": reply["error"]}
            outcome = {k: reply[k] for k in ("ok", "result", "error") if k in reply}
            if cmd.name == "fib-snapshot" and reply["ok"]:  # every FIB: not for the log
                outcome["result"] = {"fib_nodes": len(reply["result"]["fib"])}  # type: ignore[index]
            self._event("result", client=job.client, request=job.request, cmd=cmd.name, **outcome)
            await self._reply(job.client, job.request, reply)
            if cmd.name == "shutdown":
                self._stop.set()
                return
            if cmd.name in ("status", "inspect", "show", "converge", "fib-snapshot"):
                continue
            await self._publish_state_safely()

    async def _publish_state_safely(self) -> None:
        """``_publish_state``; a failure is logged, never ends the loop (module doc)."""
        try:
            await self._publish_state()
        except aiomqtt.MqttError:
            pass
        except Exception:
            log.exception("publishing the region's state failed")

    async def _run(self, cmd: Command) -> object:
        args = cmd.args
        timeout = float(args.get("timeout_s", DEFAULT_TIMEOUT_S))
        rt = self.runtime
        if cmd.name == "status":
            return await self._status()
        if cmd.name == "inspect":
            return {"region": self.topo.name, "nodes": await rt.inspect()}
        if cmd.name == "show":
            return await rt.show(args["what"], args["node"], args.get("prefix"))
        if cmd.name == "fib-snapshot":
            return await self._fib_snapshot(bool(args.get("changes", 0)))
        if cmd.name == "converge":
            if self._failed is not None:
                return {"report": None, "failed": self._failed}
            return {"report": None if self._last_report is None else self._last_report.as_dict()}
        if cmd.name == "shutdown":
            return {"stopping": self.topo.name}
        if cmd.name in ("link-down", "link-up"):
            bundle = self._bundle(args["a"], args["b"])
            change = links.link_down if cmd.name == "link-down" else links.link_up
            report = await change(rt, bundle, args.get("members"), timeout)
            return self._report(report, **links.members(rt, bundle))
        if cmd.name == "link-flap":
            bundle = self._bundle(args["a"], args["b"])
            if bundle.key in rt.failures.down:
                raise BusError("invalid", f"bundle {bundle.a}-{bundle.b} is down: bring it up")
            report = await rt.flap(args["a"], args["b"], args["count"], args["interval_s"], timeout)
            return self._report(report)
        if cmd.name == "node-drain":
            method = args.get("method", "link-bandwidth-zero")
            return self._report(await rt.drain(args["node"], method, timeout))
        if cmd.name == "node-undrain":
            return self._report(await rt.undrain(args["node"], timeout))
        if cmd.name == "node-restart":
            graceful = bool(args.get("graceful"))
            return self._report(await rt.restart(args["node"], timeout, graceful=graceful))
        raise BusError("unknown-command", f"unknown command {cmd.name!r}")  # pragma: no cover

    async def _fib_snapshot(self, changes: bool) -> dict[str, object]:
        from ..topology.dump import dump_topology

        rt = self.runtime
        out: dict[str, object] = {
            "topology": dump_topology(self.topo),
            "failures": rt.failures.as_dict(),
            "fib": await rt.fib_weights(),
            "last_report": None if self._last_report is None else self._last_report.as_dict(),
        }
        if changes:
            out["fib_changes"] = await rt.fib_changes()
        return out

    def _report(self, report: ConvergenceReport, **extra: object) -> dict[str, object]:
        self._last_report = report
        return {"report": report.as_dict(), **extra}

    def _bundle(self, a: str, b: str) -> Bundle:
        return self.topo.bundle(a, b)  # parse_command checked it exists

    # --- publishing ---------------------------------------------------------------------

    async def _status(self) -> dict[str, object]:
        status = await self.runtime.status()
        return {
            "state": self.state,
            **status,
            **self.info,
            "queued": self._jobs.queue.qsize(),
            "commands_run": self.commands_run,
            "last_report": None if self._last_report is None else self._last_report.as_dict(),
        }

    async def _publish_status(self) -> None:
        payload = encode({"v": VERSION, **(await self._status())})
        if self._link is not None:
            await self._link.publish(self.topics.status, payload, retain=True)

    async def _publish_state(self) -> None:
        """Retained per-node state where it changed (bus/retained.py), then status."""
        assert self._link is not None
        await self._nodes.publish(self._link)
        await self._publish_status()

    def _event(self, kind: str, **fields: Any) -> str:
        """Append to the event log and publish on ``events`` (without waiting)."""
        self._seq += 1
        event = {
            "v": VERSION,
            "seq": self._seq,
            "at": round(time.time(), 6),
            "kind": kind,
            "region": self.topo.name,
            **fields,
        }
        line = json.dumps(event, separators=(",", ":"))
        if self._log is not None:
            self._log.write(line + "\n")
            self._log.flush()
        if self._link is not None:
            self._spawn(self._publish_event(line.encode()))
        return line

    async def _publish_event(self, payload: bytes) -> None:
        if self._link is not None:
            await self._link.publish(self.topics.events, payload)  # not while the broker is away


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__


__all__ = ["DEFAULT_TIMEOUT_S", "QUEUE_SIZE", "BusServer", "Job"]
