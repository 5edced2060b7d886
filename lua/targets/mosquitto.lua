-- Target profile: plain Mosquitto (Debian 12: 2.0.11), a control with no PROXY support.
-- Its one listener is both "pp" and "plain": the suite sends PROXY headers to a broker that
-- cannot read them, so what the matrix shows for it is what "no support" looks like (every
-- header refused as a protocol error). No oracle: cases that need one skip, naming it.
-- Started in the foreground as a child (no systemd), on a free port of 127.0.0.1, readiness
-- polled with a deadline, stopped by PID, its temp dir removed.
local P = { name = "mosquitto" }

local util = require "targets.util"

function P.start(h)
  util.need_executables(h.host, { util.MOSQUITTO }, "install the Debian package mosquitto")
  local dir = h.host.tmpdir("ppconform-mosquitto")
  local proc, addr, log = util.start_mosquitto(h, dir, P.name)
  return {
    name = "mosquitto", version = "2.0", proc = proc, pid = proc.pid, dir = dir, log = log, keep = h.opts.keep,
    listeners = { pp = { address = addr, proxy = false }, plain = { address = addr, proxy = false } },
    capabilities = { ["listener.pp"] = true, ["listener.plain"] = true },
  }
end

util.child_processes(P, { { field = "proc" } })

return P
