--- The specs' scratch files: writing one whole, a temp file holding a
-- text, and a scratch handle that keeps what is written to it (the stdout
-- and stderr of a main() run in process). helpers.read_file reads one.
local scratch = {}

--- Writes text to path as bytes, replacing what was there; raises when it
-- cannot. Returns path.
function scratch.write(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
  return path
end

--- Writes text to a new temp file (os.tmpname); returns its path. The
-- caller removes it (os.remove).
function scratch.temp(text)
  return scratch.write(os.tmpname(), text)
end

--- A writable handle that keeps what is written: h:write(...) (any number
-- of strings or numbers; returns h, as a file does) and h.text() (or
-- h:text()), everything written so far as one string.
function scratch.sink()
  local parts = {}
  local h = {}
  function h.write(self, ...)
    for _, v in ipairs { ... } do parts[#parts + 1] = tostring(v) end
    return self
  end
  function h.text() return table.concat(parts) end
  return h
end

return scratch
