-- Drives `kdsguard lsp` from Neovim (written against 0.7, Debian 12's package; nothing newer
-- is assumed). Run headless, with no user configuration:
--
--   nvim --headless -u NONE -i NONE --noplugin -c "luafile tests/nvim/lsp_demo.lua"
--
-- Inputs, from the environment:
--   KDSGUARD_BIN        the kdsguard binary (started as `KDSGUARD_BIN lsp`)
--   KDSGUARD_WORKSPACE  the folder to analyse (a copy of testdata/demo): the workspace folder
--   KDSGUARD_OUT        where the result goes, as one line of JSON
--   KDSGUARD_FILE       the file to open, relative to the workspace (terraform/iam.tf)
--   KDSGUARD_FIND       text that occurs on exactly one line of that file ("iam:*")
--   KDSGUARD_REPLACE    what the edit puts in its place ("iam:CreateServiceLinkedRole")
--   KDSGUARD_TIMEOUT_MS how long each wait may take (30000)
--   KDSGUARD_LSP_LOG    if set, the level of Neovim's LSP log (vim.lsp.get_log_path())
--
-- What it does: opens the file, gives the buffer its filetype, attaches a client running the
-- server, waits for the server's first diagnostics on the buffer, records them, replaces
-- the text on its line in the buffer (unsaved: the server sees it through didChange only),
-- waits for the diagnostics to change, records them again. Besides the opened file it
-- records what was published for the workspace's other files, before and after.
--
-- The result: {before = [...], after = [...], others_before = {file = [...]},
-- others_after = {...}, after_edit_codes = [[codes of each publish for the file after the
-- edit], ...], edit = {line, old, new}, log = path}; every diagnostic as {code, lnum, col,
-- end_lnum, end_col, severity, source, message}, positions 0-based as Neovim keeps them,
-- sorted. On any failure (a timeout, the server exiting, a Lua error) the result is
-- {error = "...", ...what was recorded so far} and Neovim exits with status 1 (:cquit);
-- on success with 0. It never waits without a bound.

local uv = vim.loop

local result = {}
local out_path = os.getenv('KDSGUARD_OUT')

local function now_ms()
  return uv.hrtime() / 1e6
end

local function write_result()
  local text = vim.fn.json_encode(result)
  if out_path and out_path ~= '' then
    vim.fn.writefile({ text }, out_path)
  else
    io.stderr:write(text .. '\n')
  end
end

-- Ends Neovim: the client is asked to stop (and given a moment to), the result written.
local client_id
local function finish(ok)
  if client_id then
    vim.lsp.stop_client(client_id)
    vim.wait(2000, function()
      return vim.lsp.get_client_by_id(client_id) == nil
    end, 20)
    if vim.lsp.get_client_by_id(client_id) ~= nil then
      vim.lsp.stop_client(client_id, true)
    end
  end
  write_result()
  if ok then
    vim.cmd('qa!')
  else
    vim.cmd('cquit')
  end
end

-- A failure: raised as a table so that the handler below tells it from a Lua error.
local function fail(message)
  error({ kdsguard_failure = message }, 0)
end

local function required(name)
  local value = os.getenv(name)
  if value == nil or value == '' then
    fail(name .. ' is not set')
  end
  return value
end

local function optional(name, default)
  local value = os.getenv(name)
  if value == nil or value == '' then
    return default
  end
  return value
end

-- The kdsguard diagnostics of a buffer, in a stable order.
local function snapshot(bufnr)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == 'kdsguard' then
      table.insert(list, {
        code = d.code,
        lnum = d.lnum,
        col = d.col,
        end_lnum = d.end_lnum,
        end_col = d.end_col,
        severity = d.severity,
        source = d.source,
        message = d.message,
      })
    end
  end
  table.sort(list, function(a, b)
    if a.lnum ~= b.lnum then
      return a.lnum < b.lnum
    end
    if a.col ~= b.col then
      return a.col < b.col
    end
    if tostring(a.code) ~= tostring(b.code) then
      return tostring(a.code) < tostring(b.code)
    end
    return a.message < b.message
  end)
  return list
end

local function codes_of(list)
  local codes = {}
  for _, d in ipairs(list) do
    table.insert(codes, tostring(d.code))
  end
  return codes
end

local function main()
  local bin = required('KDSGUARD_BIN')
  local workspace = required('KDSGUARD_WORKSPACE'):gsub('/+$', '')
  required('KDSGUARD_OUT')
  local file = optional('KDSGUARD_FILE', 'terraform/iam.tf')
  local find = optional('KDSGUARD_FIND', '"iam:*"')
  local replace = optional('KDSGUARD_REPLACE', '"iam:CreateServiceLinkedRole"')
  local timeout = tonumber(optional('KDSGUARD_TIMEOUT_MS', '30000'))
  if not timeout or timeout <= 0 then
    fail('KDSGUARD_TIMEOUT_MS is not a positive number of milliseconds')
  end
  -- How long the server must stay quiet before a set of diagnostics counts as complete:
  -- it publishes one notification per file, the opened file's not necessarily last.
  local quiet_ms = 500

  local log_level = os.getenv('KDSGUARD_LSP_LOG')
  if log_level and log_level ~= '' then
    vim.lsp.set_log_level(log_level)
    result.log = vim.lsp.get_log_path()
  end

  vim.o.swapfile = false
  vim.cmd('edit ' .. vim.fn.fnameescape(workspace .. '/' .. file))
  local bufnr = vim.api.nvim_get_current_buf()
  -- With -u NONE there is no filetype detection: set it, as an editor's ftdetect would.
  local filetype = 'terraform'
  if file:match('%.ya?ml$') then
    filetype = 'yaml'
  elseif file:match('%.json$') then
    filetype = 'json'
  end
  vim.bo[bufnr].filetype = filetype
  local uri = vim.uri_from_bufnr(bufnr)

  local publishes, last_publish = 0, nil
  local editing = false
  local after_edit_codes = {}
  local exited = nil
  result.after_edit_codes = after_edit_codes

  client_id = vim.lsp.start_client({
    name = 'kdsguard',
    cmd = { bin, 'lsp' },
    cmd_cwd = workspace,
    root_dir = workspace,
    workspace_folders = { { uri = vim.uri_from_fname(workspace), name = 'workspace' } },
    handlers = {
      ['textDocument/publishDiagnostics'] = function(err, params, ctx, config)
        vim.lsp.diagnostic.on_publish_diagnostics(err, params, ctx, config)
        publishes = publishes + 1
        last_publish = now_ms()
        if editing and params and params.uri == uri then
          table.insert(after_edit_codes, codes_of(snapshot(bufnr)))
        end
      end,
    },
    on_exit = function(code, signal)
      exited = { code = code, signal = signal }
    end,
  })
  if not client_id then
    fail('vim.lsp.start_client did not start `' .. bin .. ' lsp`')
  end
  vim.lsp.buf_attach_client(bufnr, client_id)

  -- Waits until `ready()` holds and the server has been quiet for quiet_ms; fails on a
  -- timeout or when the server exits.
  local function wait_for(what, ready)
    local ok = vim.wait(timeout, function()
      if exited then
        return true
      end
      return ready() and last_publish ~= nil and now_ms() - last_publish >= quiet_ms
    end, 20)
    if exited then
      fail(string.format('the server exited (code %s, signal %s) while waiting for %s',
        tostring(exited.code), tostring(exited.signal), what))
    end
    if not ok then
      fail(string.format('no %s within %d ms (%d publishDiagnostics received)', what, timeout, publishes))
    end
  end

  -- Every other file of the workspace Neovim holds diagnostics for (the handler adds a
  -- buffer for each file the server publishes about).
  local function others()
    local map = {}
    local prefix = workspace .. '/'
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      local name = vim.api.nvim_buf_get_name(b)
      if b ~= bufnr and name:sub(1, #prefix) == prefix then
        local list = snapshot(b)
        if #list > 0 then
          map[name:sub(#prefix + 1)] = list
        end
      end
    end
    return map
  end

  wait_for('kdsguard diagnostics for ' .. file, function()
    return #snapshot(bufnr) > 0
  end)
  result.before = snapshot(bufnr)
  result.others_before = others()

  -- The edit: the one line holding `find`, that text replaced.
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local at = nil
  for i, line in ipairs(lines) do
    if line:find(find, 1, true) then
      if at then
        fail(string.format('%q occurs on lines %d and %d of %s', find, at, i - 1, file))
      end
      at = i - 1
    end
  end
  if not at then
    fail(string.format('%q occurs on no line of %s', find, file))
  end
  local old = lines[at + 1]
  local s, e = old:find(find, 1, true)
  local new = old:sub(1, s - 1) .. replace .. old:sub(e + 1)
  result.edit = { line = at, old = old, new = new }

  local before_json = vim.fn.json_encode(result.before)
  editing = true
  vim.api.nvim_buf_set_lines(bufnr, at, at + 1, false, { new })
  wait_for('change of the diagnostics of ' .. file .. ' after the edit', function()
    return vim.fn.json_encode(snapshot(bufnr)) ~= before_json
  end)
  result.after = snapshot(bufnr)
  result.others_after = others()
  -- The buffer really holds the edit (and nothing was saved).
  result.modified = vim.bo[bufnr].modified
end

local ok, err = xpcall(main, function(e)
  if type(e) == 'table' and e.kdsguard_failure then
    return e.kdsguard_failure
  end
  return debug.traceback(tostring(e), 2)
end)
if not ok then
  result.error = err
end
finish(ok)
