--[[
wlns for Rspamd (tested with Rspamd 3.4 from Debian 12): asks the three wlns
zones about the client IP and the SMTP envelope sender, and reports

  WLNS_RELAY          the client IP is a registered relay (127.0.2.1)
  WLNS_SENDER         the sender was verified through this relay or its group
                      (127.0.2.2 address, 127.0.2.3 whole domain)
  WLNS_VERP           the relay is a list server with VERP return paths at
                      the sender's domain (127.0.2.4)
  WLNS_NOT_VALIDATED  none of the above for a sender that is checked:
                      local.d/force_actions.conf turns it into a soft reject
  WLNS_FAIL           a look-up failed (timeout, SERVFAIL): nothing is done,
                      the check fails open

Install as $LOCAL_CONFDIR/rspamd.local.lua (/etc/rspamd/rspamd.local.lua), or
dofile() it from there, and set the zone in rspamd.conf.local. docs/mta.md
explains it; systest/mta_rspamd_test.go runs this very file.

The sender name is wlns's hashed-plus-domain form,
<base32 sha256 of the lower-cased address>.<domain>.<reversed IP>, which
works for every local part and for IPv6 relays and keeps the address off
the wire; it also matches whole-domain entries.
]]--

local rspamd_logger = require "rspamd_logger"
local cryptobox_hash = require "rspamd_cryptobox_hash"

local opts = rspamd_config:get_all_opt('wlns') or {}
local zone = opts.zone or 'wl.example.org'

-- Never checked: bounces and role addresses.
local exempt_users = { postmaster = true, ['mailer-daemon'] = true }

-- Return codes, docs/query-format.md.
local codes = {
  relay = { ['127.0.2.1'] = true },
  sender = { ['127.0.2.2'] = true, ['127.0.2.3'] = true },
  verp = { ['127.0.2.4'] = true },
}

-- A miss is NXDOMAIN or NODATA; any other error is a failed look-up.
local function is_miss(err)
  return err == 'requested record is not found' or err == 'no records with this name'
end

local function listed(results, want)
  for _, r in ipairs(results or {}) do
    if want[r:to_string()] then return true end
  end
  return false
end

-- The sender to check, lower-cased, or nil when this message is exempt.
local function checked_sender(task)
  if task:get_user() then return nil end -- authenticated submission
  -- 'orig': the envelope sender as the client sent it. Rspamd's
  -- EMAIL_PLUS_ALIASES prefilter strips +tags from the plain 'smtp' one,
  -- and wlns verified the address as sent.
  local from = task:get_from({ 'smtp', 'orig' })
  if not from or not from[1] or (from[1].addr or '') == '' then return nil end
  local user = (from[1].user or ''):lower()
  if exempt_users[user] then return nil end
  return from[1].addr:lower(), (from[1].domain or ''):lower()
end

local function wlns_check(task)
  local ip = task:get_from_ip()
  -- Loopback and private addresses are your own network: not checked.
  if not (ip and ip:is_valid()) or ip:is_local() then return end
  local rev = table.concat(ip:inversed_str_octets(), '.')
  local r = task:get_resolver()

  r:resolve_a({ task = task, name = rev .. '.relay.' .. zone, forced = true,
    callback = function(_, _, results, err)
      if err and not is_miss(err) then
        task:insert_result('WLNS_FAIL', 1.0, 'relay: ' .. err)
      elseif listed(results, codes.relay) then
        task:insert_result('WLNS_RELAY', 1.0)
      end
    end })

  local addr, domain = checked_sender(task)
  if not addr or domain == '' then return end
  local key = cryptobox_hash.create_specific('sha256', addr):base32('rfc'):lower()
  -- Both questions are asked at once; the verdict waits for both answers.
  local pending, pass, failed = 2, false, false
  local function answer(kind, symbol)
    return function(_, _, results, err)
      pending = pending - 1
      if err and not is_miss(err) then
        failed = true
        task:insert_result('WLNS_FAIL', 1.0, kind .. ': ' .. err)
      elseif listed(results, codes[kind]) then
        pass = true
        task:insert_result(symbol, 1.0, results[1]:to_string())
      end
      if pending == 0 and not pass and not failed then
        rspamd_logger.infox(task, 'wlns: sender not validated via %s', ip)
        task:insert_result('WLNS_NOT_VALIDATED', 1.0)
      end
    end
  end
  r:resolve_a({ task = task, forced = true, callback = answer('verp', 'WLNS_VERP'),
    name = domain .. '.' .. rev .. '.verp.' .. zone })
  r:resolve_a({ task = task, forced = true, callback = answer('sender', 'WLNS_SENDER'),
    name = key .. '.' .. domain .. '.' .. rev .. '.sender.' .. zone })
end

local id = rspamd_config:register_symbol({
  name = 'WLNS_CHECK',
  type = 'callback',
  callback = wlns_check,
})
-- Scores: adjust to taste. A verified sender through a registered relay is
-- a strong ham sign; WLNS_NOT_VALIDATED scores nothing by itself (the soft
-- reject comes from force_actions).
for name, def in pairs({
  WLNS_RELAY = { -1.0, 'Client IP is a registered relay in wlns' },
  WLNS_SENDER = { -4.0, 'Envelope sender verified through this relay in wlns' },
  WLNS_VERP = { -2.0, 'Relay is a list server with VERP return paths in wlns' },
  WLNS_NOT_VALIDATED = { 0.0, 'Envelope sender not yet validated in wlns' },
  WLNS_FAIL = { 0.0, 'wlns look-up failed' },
}) do
  rspamd_config:register_symbol({ name = name, type = 'virtual', parent = id,
    score = def[1], description = def[2], group = 'wlns' })
end
