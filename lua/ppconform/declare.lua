-- Declarations made by scenario files: suite{}, case{}, requirement{}.
-- Loading a scenario only builds these tables; nothing touches the network.
local D = {}

local cases, suites, requirements = {}, {}, {}
local current_file = "?"

local LEVELS = { MUST = true, SHOULD = true, MAY = true, PROFILE = true, INFO = true }
local SEVERITIES = { critical = true, high = true, medium = true, low = true, info = true }
local DEFAULT_SEVERITY = { MUST = "high", SHOULD = "medium", MAY = "info", PROFILE = "high", INFO = "info" }

local function caller_line(level)
  local info = debug.getinfo(level + 1, "Sl")
  if info then return info.short_src, info.currentline end
  return current_file, 0
end

local function string_list(v, what, id)
  if v == nil then return {} end
  if type(v) == "string" then return { v } end
  if type(v) ~= "table" then error(("case %s: %s must be a list of strings"):format(id, what), 3) end
  local out = {}
  for i, s in ipairs(v) do
    if type(s) ~= "string" then error(("case %s: %s[%d] is not a string"):format(id, what, i), 3) end
    out[#out + 1] = s
  end
  return out
end

function D.case(spec)
  if type(spec) ~= "table" then error("case{...} takes a table", 2) end
  local id = spec.id
  if type(id) ~= "string" or id == "" then error("case: id (a non-empty string) is required", 2) end
  if id:find("[%s,]") then error(("case %s: ids may not contain spaces or commas"):format(id), 2) end
  if type(spec.run) ~= "function" then error(("case %s: run = function(t) ... end is required"):format(id), 2) end
  local level = spec.level or "MUST"
  if not LEVELS[level] then
    error(("case %s: level %q is not one of MUST, SHOULD, MAY, PROFILE, INFO"):format(id, tostring(level)), 2)
  end
  local severity = spec.severity or DEFAULT_SEVERITY[level]
  if not SEVERITIES[severity] then
    error(("case %s: severity %q is not one of critical, high, medium, low, info"):format(id, tostring(severity)), 2)
  end
  if spec.timeout ~= nil and type(spec.timeout) ~= "string" and type(spec.timeout) ~= "number" then
    error(("case %s: timeout is a duration such as \"3s\" or \"500ms\""):format(id), 2)
  end
  local _, line = caller_line(2)
  local file = current_file -- the scenario file being loaded (also for cases a helper makes)
  local c = {
    __case = true, id = id, title = spec.title or id, description = spec.description,
    interpretation = spec.interpretation, level = level, severity = severity,
    refs = string_list(spec.refs, "refs", id), tags = string_list(spec.tags, "tags", id),
    requires = string_list(spec.requires, "requires", id), timeout = spec.timeout,
    run = spec.run, data = spec.data, file = file, line = line,
  }
  cases[#cases + 1] = c
  return c
end

function D.suite(spec)
  if type(spec) ~= "table" then error("suite{...} takes a table", 2) end
  if type(spec.id) ~= "string" or spec.id == "" then error("suite: id is required", 2) end
  local s = { id = spec.id, title = spec.title or spec.id, tags = string_list(spec.tags, "tags", spec.id),
              refs = string_list(spec.refs, "refs", spec.id), requires = string_list(spec.requires, "requires", spec.id) }
  suites[#suites + 1] = s
  local function claim(c)
    if type(c) == "table" and c.__case then
      c.suite = s
      for _, tag in ipairs(s.tags) do c.tags[#c.tags + 1] = tag end
      for _, r in ipairs(s.requires) do c.requires[#c.requires + 1] = r end
    elseif type(c) == "table" then
      for _, inner in ipairs(c) do claim(inner) end -- lists of generated cases
    end
  end
  for _, c in ipairs(spec) do claim(c) end
  if spec.cases then claim(spec.cases) end
  return s
end

local REQ_LEVELS = { MUST = true, SHOULD = true, MAY = true, INFO = true }
function D.requirement(spec)
  if type(spec) ~= "table" or type(spec.id) ~= "string" then error("requirement{id=...} needed", 2) end
  if not REQ_LEVELS[spec.level or ""] then
    error(("requirement %s: level must be MUST, SHOULD, MAY or INFO"):format(spec.id), 2)
  end
  if not (spec.binds == "S" or spec.binds == "R" or spec.binds == "S+R") then
    error(("requirement %s: binds must be S, R or S+R"):format(spec.id), 2)
  end
  requirements[#requirements + 1] = {
    id = spec.id, level = spec.level, binds = spec.binds, section = spec.section or "",
    text = spec.text or "", derived = spec.derived and true or false,
    not_applicable = spec.not_applicable,
  }
end

function D.set_file(f) current_file = f end
function D.cases() return cases end
function D.requirements() return requirements end

-- Finish declarations: fill suite fields for cases declared outside a suite{}.
function D.finish()
  for _, c in ipairs(cases) do
    if not c.suite then
      local stem = (c.file or "?"):match("([^/]+)%.lua$") or c.file or "?"
      c.suite = { id = stem, title = stem }
    end
  end
  return cases
end

return D
