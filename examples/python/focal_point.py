#!/usr/bin/env python3
"""A national focal point's integration with Liaison, in Python.

Talks to liaisond over mutual TLS with the focal point's own certificate,
using client code generated at run time from Liaison's published .proto
files (Debian: python3-grpcio, python3-grpc-tools). Two commands:

  ask     send a REQUEST to another party, follow the caller's live event
          stream, and print the reply when it arrives;
  answer  follow the live event stream and answer each REQUEST the party
          receives, as a national system that looks requests up in its own
          registers would (acknowledge, then reply).

  focal_point.py --server localhost:7443 --ca ca.crt --cert ro.crt --key ro.key \\
      ask --to HU --subject "Vehicle check" --body "Who holds plate B-123?"
  focal_point.py --server localhost:7443 --ca ca.crt --cert hu.crt --key hu.key \\
      answer --count 1

A real integration keeps its stream cursor between runs (--cursor-file), so
that `answer` resumes after the last event it handled: no gap, no duplicate.
`ask` starts after that cursor too but never moves it: the events it passes
over are left for `answer`.

Exit codes: 0 done, 1 timed out, 2 refused by the server or bad arguments,
3 the recipient refused the request.
"""

import argparse
import importlib
import os
import queue
import sys
import tempfile
import threading
import time
import uuid

import grpc
from grpc_tools import protoc

PROTO_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                 "proto"))


def generate_stubs(proto_dir, out_dir):
    """Generates the Python modules of liaison.v1 from the .proto files."""
    protos = sorted(
        os.path.join(proto_dir, "liaison", "v1", name)
        for name in os.listdir(os.path.join(proto_dir, "liaison", "v1"))
        if name.endswith(".proto"))
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    args = ["protoc", "-I" + proto_dir, "--python_out=" + out_dir,
            "--grpc_python_out=" + out_dir]
    if os.path.isdir(include):
        args.append("-I" + include)
    if protoc.main(args + protos) != 0:
        raise RuntimeError("could not generate code from " + proto_dir)
    sys.path.insert(0, out_dir)
    return (importlib.import_module("liaison.v1.exchange_pb2"),
            importlib.import_module("liaison.v1.exchange_pb2_grpc"),
            importlib.import_module("liaison.v1.common_pb2"))


def read(path):
    with open(path, "rb") as f:
        return f.read()


class FocalPoint:
    """One focal point's connection: its identity is its certificate."""

    def __init__(self, args, pb, pb_grpc, common):
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(args.ca),
            private_key=read(args.key),
            certificate_chain=read(args.cert))
        self.channel = grpc.secure_channel(args.server, credentials)
        self.exchange = pb_grpc.ExchangeStub(self.channel)
        self.pb = pb
        self.common = common
        self.timeout = args.call_timeout
        self.cursor_file = args.cursor_file
        self.cursor = 0
        if self.cursor_file and os.path.exists(self.cursor_file):
            with open(self.cursor_file) as f:
                text = f.read().strip()
            if not text.isdigit():
                raise ValueError(f"{self.cursor_file} does not hold a cursor "
                                 f"(a number): {text[:40]!r}")
            self.cursor = int(text)
        self.events = queue.Queue()
        self.stream = None
        self.resubscribes = 0

    def whoami(self):
        return self.exchange.WhoAmI(self.pb.WhoAmIRequest(),
                                    timeout=self.timeout)

    def follow(self, after):
        """Reads the live event stream after `after` in the background."""
        self.stream = self.exchange.Subscribe(
            self.pb.SubscribeRequest(cursor=after))
        stream = self.stream

        def pump():
            try:
                for event in stream:
                    self.events.put(event)
                self.events.put(EOFError("the server ended the stream"))
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.CANCELLED:
                    self.events.put(e)

        threading.Thread(target=pump, daemon=True).start()

    def next_event(self, deadline, last_seen):
        """The next event, or None at the deadline. A stream that ends or
        is cut (liaisond restarting) is opened again after `last_seen`;
        other stream errors raise."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                return None
            if isinstance(event, grpc.RpcError):
                if (event.code() != grpc.StatusCode.UNAVAILABLE
                        or self.resubscribes >= 10):
                    raise event
            elif not isinstance(event, EOFError):
                return event
            self.resubscribes += 1
            time.sleep(min(5.0, 0.2 * 2 ** self.resubscribes))
            self.follow(last_seen)

    def handled(self, event):
        """Moves the kept cursor past an event once it has been dealt with:
        written to a new file, synced, then renamed over the old one."""
        self.cursor = event.seq
        if not self.cursor_file:
            return
        directory = os.path.dirname(os.path.abspath(self.cursor_file))
        tmp = f"{self.cursor_file}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(str(self.cursor))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.cursor_file)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def get(self, message_id):
        return self.exchange.GetMessage(
            self.pb.GetMessageRequest(message_id=message_id),
            timeout=self.timeout)

    def close(self):
        if self.stream is not None:
            self.stream.cancel()
        self.channel.close()


def call_with_retries(call, request, timeout):
    """A call whose retry is safe (same idempotency key): tried again while
    the server cannot be reached."""
    for attempt in range(5):
        try:
            return call(request, timeout=timeout)
        except grpc.RpcError as e:
            retryable = e.code() in (grpc.StatusCode.UNAVAILABLE,
                                     grpc.StatusCode.DEADLINE_EXCEEDED)
            if not retryable or attempt == 4:
                raise
            time.sleep(0.5 * 2 ** attempt)


def ask(fp, me, args):
    pb, common = fp.pb, fp.common
    # After the kept cursor, which `ask` reads but never moves.
    last_seen = fp.cursor
    fp.follow(last_seen)
    request = pb.SendMessageRequest(
        idempotency_key=args.idempotency_key or str(uuid.uuid4()),
        recipients=[args.to],
        kind=pb.MESSAGE_KIND_REQUEST,
        subject=args.subject,
        body=args.body,
        priority=pb.PRIORITY_ROUTINE,
        classification=common.CLASSIFICATION_UNCLASSIFIED,
        handling=pb.Handling(code=pb.HANDLING_CODE_H0))
    sent = call_with_retries(fp.exchange.SendMessage, request, fp.timeout)
    print(f"sent request {sent.message_id} to {args.to}"
          f"{' (sent before: a retry)' if sent.replayed else ''}", flush=True)
    deadline = time.monotonic() + args.timeout
    while True:
        event = fp.next_event(deadline, last_seen)
        if event is None:
            print(f"no reply to {sent.message_id} within {args.timeout} s",
                  file=sys.stderr)
            return 1
        last_seen = event.seq
        if event.kind == "REQUEST_STATE" and event.message_id == sent.message_id:
            print(f"request {sent.message_id}: {event.detail}", flush=True)
            if event.detail.endswith(" REFUSED"):
                refused = fp.get(sent.message_id)
                for r in refused.recipients:
                    if r.party == args.to and r.refusal_text:
                        print(f"reason: {r.refusal_text}", flush=True)
                return 3
        # Only replies are opened: reading anything else would send its
        # sender a read receipt on behalf of whoever handles it.
        if event.kind == "MESSAGE" and event.detail.startswith("REPLY "):
            message = fp.get(event.message_id)
            if message.in_reply_to == sent.message_id:
                print(f"reply from {message.sender.party} "
                      f"({message.id}): {message.body}", flush=True)
                return 0


def look_up(subject, body):
    """Stands for the national system's own registers."""
    return (f"Checked '{subject}' against the national registers: "
            f"no record matches ({len(body)} characters of request read).")


def answer(fp, me, args):
    pb, common = fp.pb, fp.common
    fp.follow(fp.cursor)
    answered = 0
    deadline = time.monotonic() + args.timeout
    while answered < args.count:
        event = fp.next_event(deadline, fp.cursor)
        if event is None:
            print(f"answered {answered} of {args.count} requests within "
                  f"{args.timeout} s", file=sys.stderr)
            return 1
        if event.kind == "MESSAGE" and event.detail.startswith("REQUEST "):
            if answer_one(fp, me, event.message_id):
                answered += 1
        fp.handled(event)
    return 0


def answer_one(fp, me, request_id):
    """Acknowledges and answers one request; False if there was nothing to
    do (answered before, refused, or not ours to answer)."""
    pb, common = fp.pb, fp.common
    request = fp.get(request_id)
    if request.sender.party == me.party:
        return False
    try:
        fp.exchange.AcknowledgeRequest(
            pb.AcknowledgeRequestRequest(request_id=request.id),
            timeout=fp.timeout)
    except grpc.RpcError as e:
        # Acknowledged before (by us or a colleague), answered or refused:
        # the reply below says which.
        if e.code() != grpc.StatusCode.FAILED_PRECONDITION:
            raise
    try:
        reply = call_with_retries(
            fp.exchange.Reply,
            pb.ReplyRequest(
                request_id=request.id,
                # The same key on a retry: answered once only.
                idempotency_key="reply-" + request.id,
                body=look_up(request.subject, request.body),
                classification=common.CLASSIFICATION_UNCLASSIFIED,
                handling=pb.Handling(code=pb.HANDLING_CODE_H0)),
            fp.timeout)
    except grpc.RpcError as e:
        if e.code() not in (grpc.StatusCode.FAILED_PRECONDITION,
                            grpc.StatusCode.ALREADY_EXISTS):
            raise
        # Answered by a colleague, refused, or answered by us with other
        # words: nothing more to do for this one.
        print(f"left request {request.id}: {e.details()}", flush=True)
        return False
    if reply.replayed:
        print(f"request {request.id} was answered before "
              f"({reply.message_id})", flush=True)
        return False
    print(f"answered request {request.id} from {request.sender.party} "
          f"with {reply.message_id}", flush=True)
    return True


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="localhost:7443",
                        help="liaisond's HOST:PORT")
    parser.add_argument("--ca", required=True,
                        help="CA that issued the server's certificate")
    parser.add_argument("--cert", required=True,
                        help="this focal point's certificate (PEM)")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    parser.add_argument("--proto-dir", default=PROTO_DIR,
                        help="Liaison's proto/ directory")
    parser.add_argument("--cursor-file",
                        help="keeps the event cursor between runs")
    parser.add_argument("--call-timeout", type=float, default=30,
                        help="deadline of each call, in seconds")
    commands = parser.add_subparsers(dest="command", required=True)
    ask_args = commands.add_parser("ask", help="send a request, await reply")
    ask_args.add_argument("--to", required=True, help="recipient party")
    ask_args.add_argument("--subject", required=True)
    ask_args.add_argument("--body", required=True)
    ask_args.add_argument("--timeout", type=float, default=60,
                          help="seconds to wait for the reply")
    ask_args.add_argument("--idempotency-key",
                          help="to send again what an earlier run may have "
                          "sent (default: a new one)")
    answer_args = commands.add_parser("answer", help="answer requests")
    answer_args.add_argument("--count", type=int, default=1,
                             help="requests to answer before exiting")
    answer_args.add_argument("--timeout", type=float, default=60,
                             help="seconds to wait for them")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="liaison-py-") as generated:
        pb, pb_grpc, common = generate_stubs(args.proto_dir, generated)
        try:
            fp = FocalPoint(args, pb, pb_grpc, common)
        except (OSError, ValueError) as e:
            print(f"cannot start: {e}", file=sys.stderr)
            return 2
        try:
            me = fp.whoami()
            print(f"connected as {me.spiffe_id} ({me.party_name})",
                  flush=True)
            return (ask if args.command == "ask" else answer)(fp, me, args)
        except grpc.RpcError as e:
            print(f"refused: {e.code().name}: {e.details()}", file=sys.stderr)
            return 2
        finally:
            fp.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
