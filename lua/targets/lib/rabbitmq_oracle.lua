-- The RabbitMQ oracle: what RabbitMQ itself recorded about each MQTT connection, read from
-- the rabbitmq_management plugin's HTTP API (GET /api/connections, basic auth as guest on
-- loopback). A profile gets it with `require "targets.rabbitmq_oracle"`, then M.new(h, addr).
--
-- Why the management API: it is RabbitMQ's own per-connection record, one row per connection
-- process, with the MQTT client id (client_properties.client_id), the user it authenticated
-- as, and peer_host/peer_port = the source RabbitMQ attributed the connection to (the PROXY
-- source it believed). A GET costs ~1.3 ms. The alternatives lose: `rabbitmqctl
-- list_mqtt_connections` boots an Erlang VM per call (~1.5 s); the log has no username at
-- info level, never names the real socket peer, and would be re-read whole on every poll;
-- the API's live `?disable_stats=true` list is keyed by connection name ("SRC -> DST"), so
-- parallel cases carrying the same source overwrite each other and it has no client id.
--
-- Limits, so the profile claims only "oracle.sessions":
-- - The list comes from the stats collector, which copies new connections every sample
--   interval (the profile sets it to RabbitMQ's minimum, 1 s): wait_session adds that delay
--   to the caller's deadline, and a session shorter than 1 s may never be listed. Closed
--   connections leave the list at once.
-- - RabbitMQ never exposes the real socket peer of a PROXY connection (every address it
--   reports is the carried one), so sessions have no real_peer, and there are no
--   per-connection events or rejections: RabbitMQ logs a PROXY failure at debug level
--   without any address, so it cannot be tied to a connection ("oracle.events" is not
--   claimed; those methods raise an error naming what is missing).
local M = {}

local COLUMNS = "name,protocol,user,peer_host,peer_port,client_properties.client_id"
M.SAMPLE_INTERVAL_MS = 1000 -- management.sample_retention_policies.*.minute = 1 (seconds)
local FRESH_MS = 50          -- concurrent cases share a list this young

local Oracle = {}
Oracle.__index = Oracle

-- h: the profile's start() argument; addr: the management listener "127.0.0.1:PORT".
function M.new(h, addr, user, pass)
  return setmetatable({
    core = h.core, json = h.json, raw_get = h.oracle.http_get, addr = addr, scale = h.opts.scale or 1,
    auth = M.base64((user or "guest") .. ":" .. (pass or "guest")), kind = "rabbitmq-management",
  }, Oracle)
end

-- RFC 4648 base64 of a short string (the Authorization header).
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    for k = 3, 0, -1 do
      local idx = (n >> (6 * k)) & 63
      out[#out + 1] = B64:sub(idx + 1, idx + 1)
    end
    if not b then out[#out - 1], out[#out] = "=", "=" elseif not c then out[#out] = "=" end
  end
  return table.concat(out)
end

-- "host:port" as ppbroker writes it: IPv6 in brackets.
function M.peer_text(host, port)
  if type(host) ~= "string" or port == nil then return nil end
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  return host .. ":" .. tostring(math.tointeger(port) or port)
end

-- One GET with basic auth (the management API requires it) -> status, body.
function Oracle:http_get(path, timeout_ms)
  return self.raw_get(self.addr, path, timeout_ms, { "Authorization: Basic " .. self.auth })
end

function Oracle:get_json(path)
  local status, body = self:http_get(path, math.floor(3000 * self.scale))
  if not status then error("rabbitmq oracle: " .. tostring(body), 0) end
  if status ~= 200 then error(("rabbitmq oracle: GET %s answered %d"):format(path, status), 0) end
  local ok, v = pcall(self.json.decode, body)
  if not ok then error(("rabbitmq oracle: GET %s: bad JSON (%s)"):format(path, v), 0) end
  return v
end

-- A management row -> a session shaped like ppbroker's (the fields RabbitMQ has).
local function session_of(row)
  local props = type(row.client_properties) == "table" and row.client_properties or {}
  local version = ({ ["MQTT 3.1.0"] = 3, ["MQTT 3.1.1"] = 4 })[row.protocol]
  return {
    client_id = props.client_id,
    username = row.user,
    attributed_peer = M.peer_text(row.peer_host, row.peer_port),
    real_peer = nil, -- RabbitMQ does not expose it (see the header)
    listener = "pp", -- the profile's only MQTT listener
    protocol_version = version,
    connected = true, -- the API lists open connections only
    name = row.name,
  }
end

-- Every open MQTT connection RabbitMQ lists (AMQP and others are not sessions).
function Oracle:sessions()
  local now = self.core.now()
  if self.cached and now - self.cached_at <= FRESH_MS then return self.cached end
  local rows = self:get_json("/api/connections?columns=" .. COLUMNS)
  local out = {}
  for _, row in ipairs(type(rows) == "table" and rows or {}) do
    if type(row.protocol) == "string" and row.protocol:find("^MQTT") then out[#out + 1] = session_of(row) end
  end
  self.cached, self.cached_at = out, now
  return out
end

-- Block until the API answers a connections query (the first ones after boot load code and
-- can take seconds on a busy machine), or fail after ms (times --timeout-scale).
function Oracle:wait_ready(ms)
  local core = self.core
  local deadline = core.now() + math.floor(ms * self.scale)
  local last
  while true do
    local left = deadline - core.now()
    local status, body = self:http_get("/api/connections?columns=name", math.max(left, 100))
    if status == 200 then return true end
    last = status and ("answered " .. status) or body
    if core.now() >= deadline then
      error(("rabbitmq management API at %s not ready within %d ms (%s)"):format(self.addr, ms, tostring(last)), 0)
    end
    core.sleep_until(math.min(deadline, core.now() + 100))
  end
end

function Oracle:session(client_id)
  for _, s in ipairs(self:sessions()) do
    if s.client_id == client_id then return s end
  end
  return nil
end

function Oracle:session_exists(client_id) return self:session(client_id) ~= nil end

-- Wait for a session; the deadline is the caller's plus one sample interval, because the
-- list shows a new connection only after the collector's next pass.
function Oracle:wait_session(client_id, within_ms)
  local core = self.core
  local deadline = core.now() + (within_ms or 2000) + math.floor(M.SAMPLE_INTERVAL_MS * self.scale)
  while true do
    local s = self:session(client_id)
    if s or core.now() >= deadline then return s end
    core.sleep_until(math.min(deadline, core.now() + 100))
  end
end

-- What RabbitMQ cannot tell: fail loudly instead of answering with nothing.
local function cannot(what)
  return function()
    error("rabbitmq oracle: RabbitMQ exposes no " .. what .. " (the profile does not claim oracle.events)", 0)
  end
end
Oracle.events_for = cannot("per-connection events")
Oracle.wait_event = cannot("per-connection events")
Oracle.rejections = cannot("rejection records")

return M
