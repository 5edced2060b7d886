-- Target profile: Aedes (Node.js) with aedes-server-factory's trustProxy, which decodes PROXY
-- v1/v2 with aedes-protocol-decoder, all pinned in tests/interop/aedes/package.json and its
-- lock file (installed by scripts/interop-deps.sh). tests/interop/aedes/server.mjs listens
-- on kernel-chosen 127.0.0.1 ports, writes a ready file, and answers GET /api/v1/sessions
-- like ppbroker's admin API (client_id, attributed_peer, real_peer, username): that is the
-- oracle ("oracle.sessions"; no events, no rejections). One listener, "pp": Aedes in this
-- mode auto-detects a header in the first read and serves clients without one too.
-- No header timeout is configured (Aedes has none for the header; its CONNECT timeout is
-- 30 s), so the timeout cases skip. The node process is stopped by PID; temp dir removed.
-- server.mjs is found through $PPC_INTEROP_DIR (the tests/interop directory), else
-- ../../tests/interop next to the ppconform binary (a build dir in the source tree).
local P = { name = "aedes" }

local util = require "targets.util"

local NODE = "/usr/bin/node"
local NICE = "/usr/bin/nice" -- execs node: the PID stays the one we spawned

local function server_script(host)
  local base = host.getenv("PPC_INTEROP_DIR")
  local candidates = {}
  if base and base ~= "" then candidates[#candidates + 1] = base .. "/aedes/server.mjs" end
  local beside = host.program_path("../../tests/interop/aedes/server.mjs")
  if beside then candidates[#candidates + 1] = beside end
  for _, path in ipairs(candidates) do
    if host.read_file(path) then
      local dir = path:gsub("/server%.mjs$", "")
      if not host.read_file(dir .. "/node_modules/aedes/package.json") then
        error(dir .. "/node_modules has no aedes: run scripts/interop-deps.sh (npm ci)", 0)
      end
      return path
    end
  end
  error("tests/interop/aedes/server.mjs not found (set PPC_INTEROP_DIR to the tests/interop directory); looked at: "
        .. table.concat(candidates, ", "), 0)
end

local host_api, core_api -- the runner's host and core modules for P.alive (set by P.start)

function P.start(h)
  local host, core, json = h.host, h.core, h.json
  host_api, core_api = host, core
  util.need_executables(host, { NODE }, "install the Debian package nodejs")
  local script = server_script(host)
  local dir = host.tmpdir("ppconform-aedes")
  local ready, log = dir .. "/ready.json", dir .. "/aedes.log"
  -- Aedes decides on whatever its first read holds, so a header the suite writes in two parts
  -- 30 ms apart must meet a Node that reads promptly: on a loaded machine a Node waiting for
  -- the CPU reads both parts at once and the verdict turns on the scheduler. A raised priority
  -- (when allowed: nice only warns otherwise) keeps its reads as on a quiet machine.
  local argv = { NODE, script, ready }
  if host.is_executable(NICE) then argv = { NICE, "-n", "-10", NODE, script, ready } end
  local proc = host.spawn(argv, { stdout = log, stderr = log })
  local info = util.wait_ready_file(h, proc, ready, 15000, function(text)
    local ok, v = pcall(json.decode, text)
    return ok and type(v) == "table" and v.pp and v or nil
  end, "aedes", log)
  return {
    name = "aedes", version = "aedes " .. tostring(info.aedes), proc = proc, pid = proc.pid, dir = dir, log = log,
    keep = h.opts.keep,
    listeners = { pp = { address = info.pp, proxy = true } },
    capabilities = {
      ["listener.pp"] = true, ["proxy.v1"] = true, ["proxy.v2"] = true, ["oracle.sessions"] = true,
      ["oracle.real_peer"] = true, -- the shim reports the socket peer it saw
    },
    oracle = h.oracle.ppbroker_admin(info.admin, h.opts.scale),
  }
end

util.child_processes(P, { { field = "proc" } })

-- Aedes dies on some partial headers: its first-read decoder throws, and Node prints the
-- uncaught exception (ending with a "Node.js vX" line) to the log, then exits. The dying
-- process closes its sockets before it can be reaped, so the case that caused it can see
-- the FIN and end while the process still looks alive: the runner would then blame the next
-- case, or nobody. A fatal trace in the log means the process is exiting: wait (bounded) for
-- its exit status, so the case during which it died is the one that gets the ERROR.
local process_alive = P.alive
function P.alive(state)
  local ok, how, crashed = process_alive(state)
  if not ok then return ok, how, crashed end
  local log = host_api.read_file(state.log) or ""
  if not log:find("\nNode%.js v%d") then return true end
  -- the runner's loop cannot sleep here: poll the exit status (a dying Node exits within
  -- about a millisecond), bounded
  local deadline = core_api.now() + 500
  repeat
    ok, how, crashed = state.proc:alive()
    if not ok then return ok, how, crashed end
  until core_api.now() >= deadline
  return false, "it logged a fatal error (uncaught exception) and had not exited 500 ms later"
end

return P
