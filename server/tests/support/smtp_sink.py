"""A real SMTP server on loopback for the escalation tests (aiosmtpd).

Usage: smtp_sink.py PORT OUTFILE [FAIL_FIRST]
Each message accepted is appended to OUTFILE as one JSON line {"from", "to", "data"}; the first
FAIL_FIRST messages are answered 451 (a temporary failure the sender must retry). Prints
"ready" once it listens.
"""
import json
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, fail_first):
        self.out = out
        self.fail_first = fail_first

    async def handle_DATA(self, server, session, envelope):
        if self.fail_first > 0:
            self.fail_first -= 1
            return "451 4.3.0 Temporary failure, try again"
        data = envelope.content.decode("utf-8", errors="replace")
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "data": data}) + "\n")
        return "250 2.0.0 OK"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    fail_first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    controller = Controller(Sink(out, fail_first), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
