"""Small web apps run in nested containers for the port tests, made of busybox alone (no
registry here): a static page with CGI scripts (httpd), and a websocket echo server
(nc running a shell script that speaks just enough of RFC 6455)."""

import time

from environments.hosts import engine_for

IMAGE = "dindweb/busybox"

# /www/index.html, CGIs that stream (two lines two seconds apart), show the request's
# cookies, redirect, and digest the request's body; then httpd in the foreground.
WEB = r"""
mkdir -p /www/cgi-bin
printf '%s\n' "$PAGE" > /www/index.html
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho first\nsleep 2\necho second\n' > /www/cgi-bin/slow
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\nSet-Cookie: app=yes; Path=/\\r\\n\\r\\n"\necho "cookies: $HTTP_COOKIE"\n' > /www/cgi-bin/cookies
printf '#!/bin/sh\nprintf "Status: 302 Found\\r\\nLocation: /index.html\\r\\n\\r\\n"\n' > /www/cgi-bin/moved
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "$REQUEST_METHOD $(head -c "$CONTENT_LENGTH" | md5sum | cut -c1-32)"\n' > /www/cgi-bin/digest
chmod +x /www/cgi-bin/*
exec httpd -f -p 80 -h /www
"""

# One connection: the handshake, then each text frame (up to 125 bytes) sent back.
WS_ECHO = r"""#!/bin/sh
key=
while IFS= read -r line; do
  line=$(printf '%s' "$line" | tr -d '\r')
  [ -z "$line" ] && break
  case "$line" in [Ss]ec-[Ww]eb[Ss]ocket-[Kk]ey:*) key=$(printf '%s' "${line#*:}" | tr -d ' ') ;; esac
done
accept=$(printf '%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11' "$key" | sha1sum | cut -c1-40 | xxd -r -p | base64)
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' "$accept"
byte() { printf "\\$(printf %03o "$1")"; }
while :; do
  set -- $(dd bs=1 count=2 2>/dev/null | od -An -tu1)
  [ $# -eq 2 ] || exit 0
  opcode=$(( $1 & 15 )); len=$(( $2 & 127 ))
  set -- $(dd bs=1 count=4 2>/dev/null | od -An -tu1)
  m0=$1; m1=$2; m2=$3; m3=$4
  payload=$(dd bs=1 count=$len 2>/dev/null | od -An -tu1)
  if [ $opcode -eq 8 ]; then byte 136; byte 0; exit 0; fi
  byte $(( 128 | opcode )); byte $len
  i=0
  for b in $payload; do
    case $(( i % 4 )) in 0) m=$m0 ;; 1) m=$m1 ;; 2) m=$m2 ;; 3) m=$m3 ;; esac
    byte $(( b ^ m )); i=$(( i + 1 ))
  done
done
"""


def nested(environment, *args, timeout=60):
    return engine_for(environment.host).exec(environment.container_id, ["docker", *args], timeout=timeout)


def start_web(environment, *, port=8080, page="hello from nested", name="web"):
    result = nested(environment, "run", "-d", "--name", name, "-p", f"{port}:80", "-e", f"PAGE={page}",
                    IMAGE, "sh", "-c", WEB)
    assert result.exit_code == 0, result.output


def start_ws_echo(environment, *, port=8081, name="echo"):
    script = "printf '%s' \"$APP\" > /ws.sh && chmod +x /ws.sh && exec nc -ll -p 8081 -e /ws.sh"
    result = nested(environment, "run", "-d", "--name", name, "-p", f"{port}:8081", "-e", f"APP={WS_ECHO}",
                    IMAGE, "sh", "-c", script)
    assert result.exit_code == 0, result.output


def environment_ip(environment) -> str:
    return engine_for(environment.host).container_ip(environment.container_id, environment.engine_name)


def wait_until(check, timeout=20, what="the nested app"):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not answer within {timeout} s")
        time.sleep(0.2)
