-- The scenario API: the test context `t`, connections and expectations.
-- Everything here runs inside a case's coroutine; waits yield to the C scheduler
-- (core.sleep_until, sock:wait) and always carry a deadline.
local core, mqtt = ...
local R = {}

local STOP_MT = { __tostring = function(s) return "case stopped: " .. tostring(s.kind) end }
local function stop(kind) error(setmetatable({ __stop = kind }, STOP_MT), 0) end
R.STOP_MT = STOP_MT

-- ---- small helpers --------------------------------------------------------------------

local function duration_ms(v, what)
  if type(v) == "number" then return math.floor(v * 1000 + 0.5) end
  if type(v) == "string" then
    local n, unit = v:match("^(%d+%.?%d*)(%a*)$")
    n = tonumber(n)
    if n then
      if unit == "ms" then return math.floor(n + 0.5) end
      if unit == "s" or unit == "" then return math.floor(n * 1000 + 0.5) end
      if unit == "m" or unit == "min" then return math.floor(n * 60000 + 0.5) end
    end
  end
  error(("%s: %q is not a duration (\"3s\", \"250ms\" or seconds as a number)"):format(what or "duration", tostring(v)), 3)
end
R.duration_ms = duration_ms

local function hex(s, max)
  max = max or 64
  local out = {}
  for i = 1, math.min(#s, max) do out[#out + 1] = ("%02x"):format(s:byte(i)) end
  local text = table.concat(out, " ")
  if #s > max then text = text .. (" ... (%d bytes)"):format(#s) end
  return text
end
R.hex = hex

local function show(v)
  if type(v) == "string" then
    if v:find("[^\32-\126]") then return "<" .. hex(v) .. ">" end
    return ("%q"):format(v)
  end
  if type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do
      if type(k) ~= "number" or k > #v then parts[#parts + 1] = tostring(k) .. "=" .. show(x) end
    end
    for _, x in ipairs(v) do parts[#parts + 1] = show(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end
R.show = show

-- The scenario line that made a call (skipping our own frames).
local function where()
  for level = 3, 30 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.currentline and info.currentline > 0 and not info.source:find("(ppconform)", 1, true)
       and info.what ~= "C" and not info.source:find("/lib/", 1, true) then
      return info.short_src .. ":" .. info.currentline
    end
  end
  return nil
end

-- ---- MQTT packet description ----------------------------------------------------------

local function describe_packet(p)
  if not p then return "nothing" end
  local s = p.type_name or tostring(p.type)
  if p.type_name == "CONNACK" then
    s = s .. (" (reason 0x%02x%s)"):format(p.reason or 0, p.session_present and ", session present" or "")
  elseif p.type_name == "PUBLISH" then
    s = s .. (" topic=%s qos=%d"):format(show(p.topic or ""), p.qos or 0)
  elseif p.type_name == "DISCONNECT" and p.reason then
    s = s .. (" (reason 0x%02x)"):format(p.reason)
  end
  return s
end
R.describe_packet = describe_packet

-- ---- connections ----------------------------------------------------------------------

local Conn = {}
Conn.__index = Conn
R.Conn = Conn

local function new_conn(t, sock, label)
  local c = setmetatable({ t = t, sock = sock, buf = "", all = "", ended = nil, label = label,
                           mqtt_level = nil, consumed = 0 }, Conn)
  return c
end

function Conn:__close() if self.sock then self.sock:close() end end
function Conn:local_addr() local l = self.sock:addrs(); return l end
function Conn:peer_addr() local _, p = self.sock:addrs(); return p end
function Conn:received() return self.all end
function Conn:pending() return self.buf end
function Conn:note(text) self.sock:note(text) end

function Conn:close() if self.sock:is_open() then self.sock:close() end end
function Conn:reset() if self.sock:is_open() then self.sock:reset() end end
function Conn:shutdown() if self.sock:is_open() then self.sock:shutdown() end end

-- Flatten what send() accepts: a string, an object with :bytes(), or a list of those.
local function flatten(data, out)
  out = out or {}
  local ty = type(data)
  if ty == "string" then out[#out + 1] = data
  elseif ty == "table" and type(data.bytes) == "function" then out[#out + 1] = data:bytes()
  elseif ty == "table" then for _, d in ipairs(data) do flatten(d, out) end
  else error("send: want bytes (a string), a builder, or a list of them; got " .. ty, 3) end
  return out
end

-- Cut a string into chunks: split = chunk size (number), "bytewise", or a list of
-- offsets where to cut (e.g. {1, 13, 16}).
local function chunks(data, split)
  if not split then return { data } end
  local out = {}
  if split == "bytewise" then split = 1 end
  if type(split) == "number" then
    if split < 1 then error("send: split size must be >= 1", 3) end
    for i = 1, #data, split do out[#out + 1] = data:sub(i, i + split - 1) end
  elseif type(split) == "table" then
    local last = 0
    local cuts = {}
    for _, c in ipairs(split) do cuts[#cuts + 1] = c end
    table.sort(cuts)
    for _, c in ipairs(cuts) do
      if c > last and c < #data then out[#out + 1] = data:sub(last + 1, c); last = c end
    end
    out[#out + 1] = data:sub(last + 1)
  else
    error("send: split is a chunk size, \"bytewise\" or a list of offsets", 3)
  end
  if #out == 0 then out[1] = "" end
  return out
end
R.chunks = chunks

-- Write all of s before the deadline. Returns true, or false and the reason.
function Conn:_write_all(s, deadline)
  local off = 0
  while off < #s do
    local n, status, extra = self.sock:try_send(s, off)
    off = off + n
    if status == "again" then
      if core.now() >= deadline then return false, "send timed out" end
      self.sock:wait(extra == "r" and "r" or "w", deadline)
    elseif status ~= "ok" then
      return false, ("send failed: %s%s"):format(status, extra and (" (" .. extra .. ")") or "")
    end
  end
  return true
end

-- send(data, {split=, pace=, within=}) -> true | false, reason
-- Several pieces in one call are coalesced into one write unless split says otherwise.
function Conn:send(data, opts)
  opts = opts or {}
  local t = self.t
  local whole = table.concat(flatten(data))
  local pieces = chunks(whole, opts.split)
  local pace = opts.pace and t:ms(opts.pace) or 0
  local deadline = core.now() + t:ms(opts.within or "5s")
  for i, piece in ipairs(pieces) do
    if i > 1 and pace > 0 then core.sleep_until(core.now() + pace) end
    local ok, why = self:_write_all(piece, deadline)
    if not ok then
      self.sock:note(why)
      return false, why
    end
  end
  return true
end

-- Wait for something to happen: returns "data" (bytes appended to buf), "fin", "rst",
-- "error", or "timeout" at the deadline.
local MAX_UNREAD = 16 * 1024 * 1024 -- bytes a case may leave unread before it is an error
local MAX_KEPT = 1024 * 1024          -- c:received() keeps the first MiB

function Conn:_pump(deadline)
  if self.ended then return self.ended end
  while true do
    local status, data = self.sock:try_recv()
    if status == "data" then
      if #self.buf + #data > MAX_UNREAD then
        self.ended, self.end_error = "error", "the peer sent more than 16 MiB the case did not read"
        return "error"
      end
      self.buf = self.buf .. data
      if #self.all < MAX_KEPT then self.all = self.all .. data:sub(1, MAX_KEPT - #self.all) end
      return "data"
    elseif status == "again" then
      if core.now() >= deadline then return "timeout" end
      self.sock:wait(data == "w" and "w" or "r", deadline)
    else
      self.ended = status
      self.end_error = data
      return status
    end
  end
end

local function type_number(kind)
  if kind == nil then return nil end
  if type(kind) == "number" then return kind end
  local n = mqtt.TYPES[kind]
  if not n then error(("unknown MQTT packet type %q"):format(tostring(kind)), 3) end
  return n
end

-- Try to take one complete MQTT packet off the front of buf.
-- Returns packet | nil, "need" | nil, "malformed", err
function Conn:_take_packet()
  if #self.buf == 0 then return nil, "need" end
  local total, err = mqtt.frame(self.buf)
  if total == 0 then return nil, "need" end
  if not total then return nil, "malformed", err end
  local raw = self.buf:sub(1, total)
  local levels = self.mqtt_level and { self.mqtt_level } or { 4, 5 }
  local p, derr
  for _, lv in ipairs(levels) do
    p, derr = mqtt.decode(raw, lv)
    if p then break end
  end
  if not p then return nil, "malformed", derr end
  self.buf = self.buf:sub(total + 1)
  return p
end

-- What unread bytes look like: MQTT packets when they parse, hex otherwise.
local function describe_bytes(buf)
  local packets, rest = mqtt.split(buf)
  if #packets > 0 then
    local names = {}
    for _, p in ipairs(packets) do names[#names + 1] = describe_packet(p) end
    return table.concat(names, ", ") .. (#rest > 0 and (" + " .. hex(rest)) or "")
  end
  return hex(buf)
end
R.describe_bytes = describe_bytes

local function observed_text(c, what)
  if what == "data" then return "received " .. describe_bytes(c.buf) .. " (connection open)" end
  if what == "timeout" then
    if #c.buf > 0 then return ("no complete packet before the deadline (%d bytes: %s)"):format(#c.buf, hex(c.buf)) end
    return "nothing before the deadline (connection still open)"
  end
  if #c.buf > 0 then return ("%s after %d unparsed bytes: %s"):format(what, #c.buf, hex(c.buf)) end
  if what == "error" then return "socket error: " .. tostring(c.end_error) end
  return what == "fin" and "connection closed (FIN)" or what == "rst" and "connection reset (RST)" or what
end

-- expect_packet(kind|nil, {within=, where=fn, what=}) -> packet
function Conn:expect_packet(kind, opts)
  opts = opts or {}
  local t = self.t
  local want = type_number(kind)
  local want_text = kind and mqtt.TYPE_NAMES[want] or "an MQTT packet"
  local deadline = core.now() + t:ms(opts.within or "2s")
  local msg = opts.what or ("receive " .. want_text)
  while true do
    local p, status, err = self:_take_packet()
    if p then
      local ok = (not want or p.type == want) and (not opts.where or opts.where(p))
      if ok then
        t:_record(true, msg, { expected = want_text, actual = describe_packet(p), level = opts.level })
        return p
      end
      t:_record(false, msg, { expected = want_text .. (opts.where and " (matching the case's condition)" or ""),
                              actual = describe_packet(p), level = opts.level })
      stop("fail")
    elseif status == "malformed" then
      t:_record(false, msg, { expected = want_text, actual = ("malformed MQTT bytes (%s): %s"):format(err, hex(self.buf)),
                              level = opts.level })
      stop("fail")
    end
    local ev = self:_pump(deadline)
    if ev ~= "data" then
      t:_record(false, msg, { expected = want_text, actual = observed_text(self, ev), level = opts.level })
      stop("fail")
    end
  end
end
Conn.expect = Conn.expect_packet

-- expect_bytes(n | exact string, {within=}) -> the bytes
function Conn:expect_bytes(want, opts)
  opts = opts or {}
  local t = self.t
  local n = type(want) == "number" and want or #want
  local expected = type(want) == "string" and ("bytes " .. hex(want)) or ("%d bytes"):format(n)
  local deadline = core.now() + t:ms(opts.within or "2s")
  while #self.buf < n do
    local ev = self:_pump(deadline)
    if ev ~= "data" then
      t:_record(false, opts.what or "receive bytes", { expected = expected, actual = observed_text(self, ev), level = opts.level })
      stop("fail")
    end
  end
  local got = self.buf:sub(1, n)
  self.buf = self.buf:sub(n + 1)
  local ok = type(want) == "number" or got == want
  t:_record(ok, opts.what or "receive bytes", { expected = expected, actual = "bytes " .. hex(got), level = opts.level })
  if not ok then stop("fail") end
  return got
end

-- Wait for the end of the connection (or the deadline), keeping any data.
-- Returns end kind, bytes that arrived first.
function Conn:_wait_end(deadline)
  local before = #self.buf
  while true do
    local ev = self:_pump(deadline)
    if ev ~= "data" then return ev, #self.buf end
  end
  -- unreachable
end


-- expect_close{accept={"fin","rst"}, data="forbid"|"allow"|"require", within=}
-- With data="forbid" (the default) the first unread byte fails the case at once.
function Conn:expect_close(opts)
  opts = opts or {}
  local t = self.t
  local rule = opts.data or "forbid"
  local within = t:ms(opts.within or "2s")
  local deadline = core.now() + within
  local ev
  repeat
    ev = self:_pump(deadline)
  until ev ~= "data" or (rule == "forbid" and #self.buf > 0)
  local nbytes = #self.buf
  local ok, why, expected = core.close_judge(opts.accept, rule, ev == "data" and "timeout" or ev, nbytes)
  local actual = why
  if ev == "data" then
    ok = false
    actual = "received " .. describe_bytes(self.buf) .. " (connection still open)"
  elseif ev == "timeout" then
    actual = ("still open after %d ms%s"):format(within, nbytes > 0 and (", after receiving " .. describe_bytes(self.buf)) or "")
  elseif nbytes > 0 then
    actual = actual .. ": " .. describe_bytes(self.buf)
  end
  t:_record(ok, opts.what or "connection closed", { expected = expected, actual = actual, level = opts.level })
  if not ok then stop("fail") end
  return ev
end

-- expect_silence(duration, {what=}) -- nothing may arrive and the connection stays open
function Conn:expect_silence(dur, opts)
  opts = opts or {}
  local t = self.t
  local ms = t:ms(dur or "500ms")
  local deadline = core.now() + ms
  local ev = self:_pump(deadline)
  local ok = ev == "timeout" and #self.buf == 0
  t:_record(ok, opts.what or "no answer", { expected = ("silence for %d ms, connection open"):format(ms),
                                            actual = ok and "silence" or observed_text(self, ev), level = opts.level })
  if not ok then stop("fail") end
  return true
end

-- expect_one_of({branch, ...}, {within=}) -> name, value, index
-- branch: {"packet", type=, where=} | {"close", accept=, data=} | {"silence"} | {"bytes", n=}
-- The first observation decides: a complete packet, a close, or the deadline (silence).
function Conn:expect_one_of(branches, opts)
  opts = opts or {}
  local t = self.t
  local within = t:ms(opts.within or "2s")
  for _, b in ipairs(branches) do
    if b[1] == "silence" and b.within then within = math.max(within, t:ms(b.within)) end
  end
  local deadline = core.now() + within
  local alts = {}
  for i, b in ipairs(branches) do
    local kind = type(b) == "string" and b or b[1]
    if type(b) == "string" then branches[i] = { b } end
    b = branches[i]
    if kind == "packet" then alts[#alts + 1] = (b.type and mqtt.TYPE_NAMES[type_number(b.type)] or "an MQTT packet") .. (b.where and " (matching)" or "")
    elseif kind == "close" then
      local _, _, e = core.close_judge(b.accept, b.data or "forbid", "fin", 0); alts[#alts + 1] = e
    elseif kind == "silence" then alts[#alts + 1] = ("silence for %d ms"):format(within)
    elseif kind == "bytes" then alts[#alts + 1] = ("%d bytes"):format(b.n or 1)
    else error("expect_one_of: branch kinds are packet, close, silence, bytes", 2) end
  end
  local expected = table.concat(alts, " | ")
  local msg = opts.what or "one of the allowed outcomes"
  local function done(i, value, actual)
    t:_record(true, msg, { expected = expected, actual = actual, level = opts.level })
    local b = branches[i]
    return b.name or b[1], value, i
  end
  while true do
    -- a complete packet?
    local p, status = self:_take_packet()
    if p then
      for i, b in ipairs(branches) do
        if b[1] == "packet" and (not b.type or type_number(b.type) == p.type) and (not b.where or b.where(p)) then
          return done(i, p, describe_packet(p))
        end
      end
      t:_record(false, msg, { expected = expected, actual = describe_packet(p), level = opts.level })
      stop("fail")
    end
    for i, b in ipairs(branches) do
      if b[1] == "bytes" and #self.buf >= (b.n or 1) then
        local got = self.buf:sub(1, b.n or 1); self.buf = self.buf:sub((b.n or 1) + 1)
        return done(i, got, "bytes " .. hex(got))
      end
    end
    local ev = self:_pump(deadline)
    if ev ~= "data" then
      for i, b in ipairs(branches) do
        if b[1] == "close" and (ev == "fin" or ev == "rst") then
          local ok, why = core.close_judge(b.accept, b.data or "forbid", ev, #self.buf)
          if ok then return done(i, ev, why) end
        elseif b[1] == "silence" and ev == "timeout" and #self.buf == 0 then
          return done(i, nil, "silence")
        end
      end
      t:_record(false, msg, { expected = expected, actual = observed_text(self, ev), level = opts.level })
      stop("fail")
    end
  end
end

-- observe{within=} -> {end_="fin"|"rst"|"timeout"|"error", bytes=..., packets={...}}
-- Collects everything until the connection ends or the deadline; never fails the case.
function Conn:observe(opts)
  opts = opts or {}
  local deadline = core.now() + self.t:ms(opts.within or "1s")
  local ev = self:_wait_end(deadline)
  local bytes = self.buf
  local packets = {}
  while true do
    local p = self:_take_packet()
    if not p then break end
    packets[#packets + 1] = p
  end
  return { ["end"] = ev, bytes = bytes, packets = packets }
end

-- TLS on an open connection (after a cleartext PROXY header, for PROXY-before-TLS).
function Conn:starttls(ctx, opts)
  opts = opts or {}
  local t = self.t
  if type(ctx) == "table" then ctx = R.tls_client(ctx) end
  self.sock:tls_attach(ctx, opts.sni)
  local deadline = core.now() + t:ms(opts.within or "3s")
  while true do
    local st, err = self.sock:tls_step()
    if st == "ok" then return self.sock:tls_info() end
    if st == "error" then return nil, err end
    if core.now() >= deadline then return nil, "TLS handshake timed out" end
    self.sock:wait(st, deadline)
  end
end
function Conn:tls_info() return self.sock:tls_info() end

-- ---- the test context -------------------------------------------------------------------

local T = {}
T.__index = T
R.T = T

function R.new_context(c, env)
  local t = setmetatable({
    case = c, id = c.id, level = c.level, target = env.target, oracle = env.oracle,
    seed = env.seed, scale = env.scale or 1, run_id = env.run_id, data = c.data or {}, _opts = env.opts or {},
    _checks = {}, _infos = {}, _skip = nil, _uniq = 0, _conns = {},
  }, T)
  -- a per-case PRNG: same seed -> same bytes, whatever -j does
  local h = env.seed or 0
  for i = 1, #c.id do h = (h * 31 + c.id:byte(i)) % 2147483647 end
  t._rng = h == 0 and 1 or h
  if not t.oracle and env.oracle_none then t.oracle = env.oracle_none(t) end
  return t
end

-- A scenario parameter from the command line (--set KEY=VALUE), or the default.
function T:opt(name, default)
  local v = self._opts[name]
  if v == nil then return default end
  if type(default) == "number" then return tonumber(v) or default end
  if type(default) == "boolean" then return v == "1" or v == "true" or v == "yes" end
  return v
end

function T:ms(d) return math.floor(duration_ms(d, "duration") * self.scale + 0.5) end
function T:now() return core.now() end

function T:random(m, n)
  -- Park-Miller: deterministic per case
  self._rng = (self._rng * 48271) % 2147483647
  local x = self._rng / 2147483647
  if not m then return x end
  if not n then m, n = 1, m end
  return m + math.floor(x * (n - m + 1))
end

function T:_record(ok, message, o)
  o = o or {}
  local rec = { ok = ok and true or false, message = tostring(message or ""), where = o.where or where(),
                expected = o.expected ~= nil and tostring(o.expected) or nil,
                actual = o.actual ~= nil and tostring(o.actual) or nil, ref = o.ref, level = o.level or self.level }
  self._checks[#self._checks + 1] = rec
  return rec.ok
end

-- check: record and continue. Returns cond.
function T:check(cond, message, o)
  return self:_record(cond, message, o)
end

function T:check_eq(actual, expected, message, o)
  o = o or {}
  local ok = actual == expected
  return self:_record(ok, message or "values are equal", { expected = show(expected), actual = show(actual),
                                                            ref = o.ref, level = o.level })
end

-- require: record and stop the case when false.
function T:require(cond, message, o)
  if not self:_record(cond, message, o) then stop("fail") end
  return cond
end

function T:require_eq(actual, expected, message, o)
  if not self:check_eq(actual, expected, message, o) then stop("fail") end
  return actual
end

function T:fail(message, o)
  self:_record(false, message, o)
  stop("fail")
end

function T:skip(reason)
  self._skip = tostring(reason)
  stop("skip")
end

function T:info(key, value)
  self._infos[#self._infos + 1] = { tostring(key), type(value) == "string" and value or show(value) }
end

function T:log(text) core.note(tostring(text)) end

function T:unique(prefix)
  self._uniq = self._uniq + 1
  return ("%s-%s-%d"):format(prefix or "ppc", self.run_id, self._uniq)
end

function T:sleep(d) core.sleep_until(core.now() + self:ms(d)) end

-- Concurrent sub-task: runs fn(t, ...) alongside the case. A failure in it stops the case.
function T:spawn(fn, ...)
  local h = core.spawn(fn, self, ...)
  local t = self
  function h:join(within)
    return core.join(self, core.now() + t:ms(within or "5s"))
  end
  return h
end

-- capability test (for branches inside a case; `requires` skips whole cases)
function T:has(cap) return self.target.capabilities[cap] ~= nil and self.target.capabilities[cap] ~= false end

-- resolve a listener name or an address
function T:address(where_)
  local l = self.target.listeners[where_]
  if l then return l.address end
  if type(where_) == "string" and where_:find(":%d+$") then return where_ end
  self:skip(("the target has no listener %q"):format(tostring(where_)))
end

-- The oracle's event watermark, taken just before a connection is opened (nil when the
-- target has no event oracle or it did not answer): the event cursor and the highest
-- connection id logged so far. events_for(conn) then reads only what was logged after it,
-- so a source port the OS reuses within a run cannot lend this connection an earlier one's
-- events.
function T:_event_mark()
  local o = self.oracle
  if type(o) ~= "table" or rawget(o, "kind") == "none" or not self:has("oracle.events") then return nil end
  local f = o.watermark
  if type(f) ~= "function" then return nil end
  local ok, seq, conn = pcall(f, o)
  if ok and type(seq) == "number" then return seq, conn end
  if not ok then core.note("oracle watermark unavailable: " .. tostring(seq)) end
  return nil
end

-- connect(listener_or_address, {source=, tls=, within=, mqtt=}) -> conn
-- source: our address ("127.0.0.2") or address and port ("127.0.0.2:40001").
function T:connect(where_, opts)
  opts = opts or {}
  local addr = self:address(where_ or "pp")
  local mark, mark_conn = self:_event_mark()
  local deadline = core.now() + self:ms(opts.within or "3s")
  local sock, in_progress = core.connect(addr, opts.source)
  if not sock then error(("cannot connect to %s (%s): %s"):format(tostring(where_), addr, in_progress), 2) end
  if in_progress then sock:wait("w", deadline) end
  local ok, err = sock:finish_connect()
  if not ok then
    -- the target refusing a connection is the target's trouble, not a verdict on PROXY
    if in_progress and core.now() >= deadline then err = "connect timed out" end
    error(("cannot connect to %s (%s): %s"):format(tostring(where_), addr, err), 2)
  end
  local c = new_conn(self, sock, where_)
  c.mqtt_level = opts.mqtt
  c.oracle_mark, c.oracle_mark_conn = mark, mark_conn
  self._conns[#self._conns + 1] = c
  if opts.tls then
    local info, terr = c:starttls(opts.tls, { sni = opts.sni })
    if not info then self:fail("TLS handshake with " .. addr, { expected = "a TLS session", actual = terr }) end
  end
  return c
end

-- ---- replay ----------------------------------------------------------------------------

-- Length of a PROXY header at the start of s (v1 line or v2 block), or 0.
local SIG = "\13\10\13\10\0\13\10QUIT\10"
function R.proxy_header_len(s)
  if s:sub(1, 6) == "PROXY " then
    local e = s:find("\r\n", 1, true)
    return e and e + 1 or 0
  end
  if #s >= 16 and s:sub(1, 12) == SIG then
    return 16 + s:byte(15) * 256 + s:byte(16)
  end
  return 0
end

-- Cut offsets inside [from, to) of a stream given its original chunks.
local function cuts_between(chunks, from, to)
  local cuts, off = {}, 0
  for _, ch in ipairs(chunks) do
    off = off + #ch
    if off > from and off < to then cuts[#cuts + 1] = off - from end
  end
  return cuts
end

-- Rewrite the client id of a CONNECT (so replays never collide with other sessions).
local function rewrite_connect(bytes, suffix)
  local p = mqtt.decode(bytes, 4) or mqtt.decode(bytes, 5)
  if not p or p.type_name ~= "CONNECT" or p.will_topic then return bytes end
  local ok, out = pcall(mqtt.connect, { version = p.protocol_level, client_id = p.client_id .. suffix,
    clean = p.clean, keep_alive = p.keep_alive, username = p.username, password = p.password })
  return ok and out or bytes
end

-- Compare a received packet with the recorded one, ignoring what may legitimately differ
-- (packet ids, assigned client ids and other server-chosen properties).
local function same_packet(got, want)
  if got.type ~= want.type then return false, "type" end
  if want.type_name == "CONNACK" then
    if got.reason ~= want.reason then return false, "reason code" end
    if got.session_present ~= want.session_present then return false, "session present" end
  elseif want.type_name == "PUBLISH" then
    if got.topic ~= want.topic then return false, "topic" end
    if got.payload ~= want.payload then return false, "payload" end
    if got.qos ~= want.qos then return false, "qos" end
  elseif want.type_name == "SUBACK" or want.type_name == "UNSUBACK" then
    if show(got.reasons or {}) ~= show(want.reasons or {}) then return false, "reason codes" end
  elseif want.reason ~= nil and got.reason ~= want.reason then
    return false, "reason code"
  end
  return true
end

-- t:replay(flow, {to="pp", header=bytes|false, segmentation="original"|"coalesce"|n,
--                 pace=, within=, client_id_suffix=, compare=true, ignore={"PUBLISH"},
--                 mqtt=level}) -> conn, summary
-- Sends the flow's client stream (its own PROXY header stripped, `header` put in front;
-- header=nil keeps the recorded one) and checks each recorded server reply at the MQTT
-- packet level.
function T:replay(flow, opts)
  opts = opts or {}
  local c2s = flow.c2s or ""
  local hlen = R.proxy_header_len(c2s)
  local header = opts.header
  if header == nil then header = c2s:sub(1, hlen) end
  if header == false then header = "" end
  local seg = opts.segmentation or "original"
  local suffix = opts.client_id_suffix
  if suffix == nil then suffix = "-" .. self.run_id end
  -- the session's MQTT version, from the recorded CONNECT
  local level = opts.mqtt
  if not level then
    local first = mqtt.split(c2s:sub(hlen + 1))[1]
    level = first and first.type_name == "CONNECT" and first.protocol_level or 4
  end
  local ignore = {}
  for _, name in ipairs(opts.ignore or {}) do ignore[name] = true end
  local c = self:connect(opts.to or "pp", { source = opts.source, mqtt = level })
  local summary = { steps = 0, packets_compared = 0, header_stripped = hlen, level = level }
  local sent_header = false
  local stream_off = 0 -- offset in the recorded client stream
  for _, step in ipairs(flow.steps or {}) do
    summary.steps = summary.steps + 1
    if step.from == "client" then
      local bytes, from = step.bytes, stream_off
      stream_off = stream_off + #bytes
      -- drop the recorded header bytes that fall into this step
      local drop = math.max(0, math.min(#bytes, hlen - from))
      local payload = bytes:sub(drop + 1)
      local prefix = ""
      if not sent_header then prefix = header; sent_header = true end
      if payload ~= "" and suffix ~= "" and #payload >= 2 and payload:byte(1) == 0x10 then
        local total = mqtt.frame(payload)
        if total and total > 0 then payload = rewrite_connect(payload:sub(1, total), suffix) .. payload:sub(total + 1) end
      end
      local data = prefix .. payload
      local split
      if seg == "original" then
        split = cuts_between(flow.c2s_chunks or {}, from + drop, from + #bytes)
        for i, cut in ipairs(split) do split[i] = cut + #prefix end
        if #prefix > 0 and #payload > 0 then table.insert(split, 1, #prefix) end
        if #split == 0 then split = nil end
      elseif type(seg) == "number" or seg == "bytewise" then
        split = seg
      end
      c:send(data, { split = split, pace = opts.pace })
    elseif opts.compare ~= false then
      local want, rest = mqtt.split(step.bytes, level)
      for _, w in ipairs(want) do
        if ignore[w.type_name] then goto continue end
        local got = c:expect_packet(w.type, { within = opts.within or "3s",
          what = "replayed server reply: " .. describe_packet(w) })
        local ok, field = same_packet(got, w)
        self:check(ok, "reply matches the recording", { expected = describe_packet(w),
          actual = describe_packet(got) .. (ok and "" or (" (" .. tostring(field) .. " differs)")) })
        summary.packets_compared = summary.packets_compared + 1
        ::continue::
      end
      if #rest > 0 then self:info("replay", ("%d recorded server bytes are not a whole MQTT packet"):format(#rest)) end
    end
  end
  return c, summary
end

R.stop = stop
return R
