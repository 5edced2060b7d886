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

function P.start(h)
  local host, core, json = h.host, h.core, h.json
  util.need_executables(host, { NODE }, "install the Debian package nodejs")
  local script = server_script(host)
  local dir = host.tmpdir("ppconform-aedes")
  local ready, log = dir .. "/ready.json", dir .. "/aedes.log"
  local proc = host.spawn({ NODE, script, ready }, { stdout = log, stderr = log })
  local deadline = core.now() + math.floor(15000 * (h.opts.scale or 1))
  local info
  while true do
    local text = host.read_file(ready)
    if text then
      local ok, v = pcall(json.decode, text)
      if ok and type(v) == "table" and v.pp then info = v; break end
    end
    local alive, how = proc:alive()
    if not alive then
      error(("aedes exited before it was ready (%s):\n%s"):format(how, (host.read_file(log) or ""):sub(-1500)), 0)
    end
    if core.now() >= deadline then
      proc:stop(2000)
      error("aedes did not write its ready file within 15 s (" .. ready .. ")", 0)
    end
    core.sleep_until(math.min(deadline, core.now() + 20))
  end
  return {
    name = "aedes", version = "aedes " .. tostring(info.aedes), proc = proc, pid = proc.pid, dir = dir, log = log,
    keep = h.opts.keep,
    listeners = { pp = { address = info.pp, proxy = true } },
    capabilities = {
      ["listener.pp"] = true, ["proxy.v1"] = true, ["proxy.v2"] = true, ["oracle.sessions"] = true,
    },
    oracle = h.oracle.ppbroker_admin(info.admin, h.opts.scale),
  }
end

util.child_processes(P, { { field = "proc" } })

return P
