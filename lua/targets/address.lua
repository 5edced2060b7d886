-- Target profile: any system reachable at HOST:PORT (--target HOST:PORT).
-- The address is the "pp" listener (PROXY v1 and v2 assumed, --capability/--no-capability
-- adjust); there is no oracle, so cases that need one are skipped and say why.
local P = { name = "address" }

function P.start(h)
  local opts = h.opts
  local caps = { ["listener.pp"] = true, ["proxy.v1"] = true, ["proxy.v2"] = true }
  local listeners = { pp = { address = opts.address, proxy = true } }
  for name, addr in pairs(opts.listeners or {}) do
    listeners[name] = { address = addr }
    caps["listener." .. name] = true
  end
  return { name = "address " .. opts.address, listeners = listeners, capabilities = caps }
end

function P.alive() return true end
function P.stop() return "not started by ppconform", false end

return P
