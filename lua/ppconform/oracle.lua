-- Oracles: what the target says about itself. For ppbroker this is its admin HTTP API
-- (sessions, events by connection, rejections). Waits poll with a deadline.
local core, json = ...
local O = {}

-- A tiny HTTP/1.1 GET over the runner's own sockets (non-blocking, no evidence logging).
-- headers: optional extra request lines, e.g. { "Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=" }.
-- Returns status, body (at most 8 MiB) or nil, error.
function O.http_get(addr, path, timeout_ms, headers)
  local deadline = core.now() + (timeout_ms or 2000)
  local extra = ""
  for _, line in ipairs(headers or {}) do
    if line:find("[\r\n]") then return nil, "a header line with CR or LF" end
    extra = extra .. line .. "\r\n"
  end
  local sock, err = core.connect(addr, nil, true)
  if not sock then return nil, err end
  if err then sock:wait("w", deadline) end
  local ok, cerr = sock:finish_connect()
  if not ok then sock:close(); return nil, cerr end
  local req = ("GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n"):format(path, addr, extra)
  local off = 0
  while off < #req do
    local n, st = sock:try_send(req, off)
    off = off + n
    if st == "again" then
      if core.now() >= deadline then sock:close(); return nil, "timeout sending" end
      sock:wait("w", deadline)
    elseif st ~= "ok" then sock:close(); return nil, "send: " .. st end
  end
  local parts = {}
  local size = 0
  while true do
    local st, data = sock:try_recv()
    if st == "data" then
      parts[#parts + 1] = data
      size = size + #data
      if size > 8 * 1024 * 1024 then sock:close(); return nil, "admin reply larger than 8 MiB" end
    elseif st == "again" then
      if core.now() >= deadline then sock:close(); return nil, "timeout reading " .. path end
      sock:wait("r", deadline)
    elseif st == "fin" then break
    else sock:close(); return nil, "read: " .. st end
  end
  sock:close()
  local text = table.concat(parts)
  local status = tonumber(text:match("^HTTP/1%.%d (%d%d%d)"))
  local body = text:match("\r\n\r\n(.*)$")
  if not status or not body then return nil, "bad HTTP reply from " .. addr .. path end
  return status, body
end

local Admin = {}
Admin.__index = Admin

function O.ppbroker_admin(addr, scale)
  return setmetatable({ addr = addr, scale = scale or 1, kind = "ppbroker-admin" }, Admin)
end

function Admin:get_json(path)
  local status, body = O.http_get(self.addr, path, math.floor(3000 * self.scale))
  if not status then error("oracle: " .. tostring(body), 0) end
  if status ~= 200 then error(("oracle: GET %s answered %d"):format(path, status), 0) end
  local ok, v = pcall(json.decode, body)
  if not ok then error(("oracle: GET %s: bad JSON (%s)"):format(path, v), 0) end
  return v
end

function Admin:status() return self:get_json("/api/v1/status") end
function Admin:sessions() return self:get_json("/api/v1/sessions").sessions or {} end
function Admin:rejections() return self:get_json("/api/v1/rejections").rejections or {} end

function Admin:session(client_id)
  for _, s in ipairs(self:sessions()) do
    if s.client_id == client_id then return s end
  end
  return nil
end

function Admin:session_exists(client_id) return self:session(client_id) ~= nil end

local function peer_of(x)
  if type(x) == "table" and x.local_addr then return x:local_addr() end
  return x
end

-- Events are read incrementally (GET /api/v1/events?since=CURSOR&limit=PAGE, pages until
-- one is not full) into a cache shared by every case, indexed by real_peer: a long run never
-- depends on the broker's "everything you have" window, and a poll only transfers what is
-- new. Reads are serialized, and callers that arrive while one is under way share the next
-- one (which starts after they asked), so concurrent cases do not queue a read each.
local PAGE = 1000
function Admin:refresh()
  local need = (self.reads_started or 0) + 1 -- a read that starts after this call
  while true do
    if (self.reads_done or 0) >= need then return end
    -- a reader whose case was aborted mid-read is taken over after 5 s
    if not self.refreshing or core.now() - self.refreshing >= 5000 then break end
    core.sleep_until(core.now() + 2)
  end
  self.reads_started = (self.reads_started or 0) + 1
  local mine = self.reads_started
  self.refreshing = core.now()
  self.cursor = self.cursor or 1
  self.by_peer = self.by_peer or {}
  self.seen = self.seen or {}
  local ok, err = pcall(function()
    for _ = 1, 1000 do
      local r = self:get_json(("/api/v1/events?since=%d&limit=%d"):format(math.floor(self.cursor), PAGE))
      local events = r.events or {}
      for _, e in ipairs(events) do
        if e.seq and not self.seen[e.seq] then
          self.seen[e.seq] = true
          if type(e.conn) == "number" and e.conn > (self.max_conn or 0) then self.max_conn = e.conn end
          local list = self.by_peer[e.real_peer or "?"]
          if not list then list = {}; self.by_peer[e.real_peer or "?"] = list end
          list[#list + 1] = e
        end
      end
      local next_ = tonumber(r.next) or self.cursor
      if #events == 0 or next_ <= self.cursor then break end
      local full = next_ - self.cursor >= PAGE
      self.cursor = next_
      if not full then break end -- the end of the log when this page was made
    end
  end)
  if self.refreshing then self.refreshing = false end
  if not ok then error(err, 0) end
  if mine > (self.reads_done or 0) then self.reads_done = mine end
end

-- The watermark for a connection about to be opened, after reading every event logged so
-- far: the cursor (that connection's events have seq >= it) and the highest connection id
-- seen (ppbroker numbers connections as it accepts them, so that connection's id is higher).
-- The runtime takes it just before each t:connect / t:replay and keeps it on the connection
-- (conn.oracle_mark, conn.oracle_mark_conn).
function Admin:watermark()
  self:refresh()
  return self.cursor, self.max_conn or 0
end

-- Which of a peer's events are one connection's. The OS may hand the same source port
-- (real_peer) to several of our connections in one run, so for a connection object we keep
-- the events logged after its watermark whose connection id is above the watermark's (an
-- earlier connection's close can come late), and of those the newest connection id (or
-- exactly `conn_id` when the caller knows it). An address string keeps every event of that
-- peer unless opts.since / opts.conn narrow it.
local function select_events(list, since, conn_floor, conn_id, newest_only)
  local candidates = {}
  for _, e in ipairs(list) do
    local late = not since or (tonumber(e.seq) or 0) >= since
    local newer = not conn_floor or type(e.conn) ~= "number" or e.conn > conn_floor
    if late and newer then candidates[#candidates + 1] = e end
  end
  local want = conn_id
  if not want and newest_only then
    for _, e in ipairs(candidates) do
      if type(e.conn) == "number" and (not want or e.conn > want) then want = e.conn end
    end
  end
  if not want then return candidates end
  local mine = {}
  for _, e in ipairs(candidates) do
    if e.conn == want then mine[#mine + 1] = e end
  end
  return mine
end

-- Events the target logged for one of our connections (a connection object: see
-- select_events) or for an address ("ip:port", every connection from it). opts: until_type
-- (default: a type that ends a connection) to poll for until the deadline, within_ms,
-- no_wait, conn (the target's connection id), since (a watermark for an address).
local FINAL = { close = true, proxy_reject = true, auth_reject = true, security_reject = true }
function Admin:events_for(conn_or_peer, opts)
  opts = opts or {}
  local peer = peer_of(conn_or_peer)
  local is_conn = type(conn_or_peer) == "table"
  local since = opts.since or (is_conn and conn_or_peer.oracle_mark) or nil
  local floor = is_conn and conn_or_peer.oracle_mark_conn or nil
  -- within_ms is taken as given (callers pass t:ms(...), already scaled)
  local deadline = core.now() + (opts.within_ms or math.floor(2000 * self.scale))
  local want = opts.until_type
  while true do
    self:refresh()
    local mine = select_events(self.by_peer[peer] or {}, since, floor, opts.conn, is_conn)
    local finished = false
    for _, e in ipairs(mine) do
      if (want and e.type == want) or (not want and FINAL[e.type]) then finished = true end
    end
    if finished or opts.no_wait or core.now() >= deadline then return mine, finished end
    core.sleep_until(math.min(deadline, core.now() + 20))
  end
end

-- The first event of a type for a connection, waiting for it up to within_ms.
function Admin:wait_event(conn_or_peer, etype, within_ms)
  local events = self:events_for(conn_or_peer, { until_type = etype, within_ms = within_ms or 2000 })
  for _, e in ipairs(events) do
    if e.type == etype then return e, events end
  end
  return nil, events
end

-- Wait until a session with this client id exists (or the deadline).
function Admin:wait_session(client_id, within_ms)
  local deadline = core.now() + (within_ms or 2000)
  while true do
    local s = self:session(client_id)
    if s or core.now() >= deadline then return s end
    core.sleep_until(math.min(deadline, core.now() + 20))
  end
end

-- An oracle for targets that have none: every use skips the case, naming what is missing.
local None = {}
None.__index = function(_, name)
  return function(self)
    self.t:skip("the target has no oracle (needed: " .. name .. ")")
  end
end
function O.none(t) return setmetatable({ t = t, kind = "none" }, None) end

return O
