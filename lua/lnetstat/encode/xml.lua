--- Text for XML 1.0 documents (the JUnit check report writes through it).
--
-- The result is always valid UTF-8 made only of characters XML 1.0 allows:
-- a byte outside a valid UTF-8 sequence becomes its Latin-1 character (see
-- lnetstat.encode.utf8); the control characters XML 1.0 has no way to
-- carry (all of C0 but tab, newline and carriage return) and DEL are shown
-- as the text `\xNN`, the non-characters U+FFFE and U+FFFF as `\uFFFE` and
-- `\uFFFF`; `&`, `<`, `>`, `"` and `'` are escaped, carriage return kept
-- as `&#13;`.
--
--     local xml = require "lnetstat.encode.xml"
--     '<a title="' .. xml.attr('x "1"\ny') .. '">' .. xml.text("a < b") .. "</a>"
--     --> <a title="x &quot;1&quot;&#10;y">a &lt; b</a>
-- @module lnetstat.encode.xml
local utf8 = require "lnetstat.encode.utf8"

local byte, format, gsub = string.byte, string.format, string.gsub

local M = {}

local ENTITIES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }

local function shown(c)
  return format("\\x%02X", byte(c))
end

--- s as XML character data (element content).
function M.text(s)
  s = utf8.repair(s)
  s = gsub(s, "[&<>\"']", ENTITIES)
  s = gsub(s, "[%z\1-\8\11\12\14-\31\127]", shown)
  s = gsub(s, "\239\191([\190\191])", function(c) return c == "\190" and "\\uFFFE" or "\\uFFFF" end)
  return (gsub(s, "\r", "&#13;"))   -- a raw one would be read as a newline
end

local ATTR_WHITESPACE = { ["\n"] = "&#10;", ["\r"] = "&#13;", ["\t"] = "&#9;" }

--- s as an attribute value between double quotes: as text, and tab,
-- newline and carriage return as character references (a parser turns
-- raw ones into spaces).
function M.attr(s)
  return (gsub(M.text(s), "[\n\r\t]", ATTR_WHITESPACE))
end

return M
