/**
 * The Redis scripts behind shared counters. Each runs atomically on the Redis server, so any
 * number of instances together never take more than a limit allows. Amounts are floats carried
 * as strings (Redis truncates a number a script returns to an integer). Times come from Redis's
 * own clock (`TIME`), so instances' clocks do not decide when a lease expires.
 *
 * Budget leases, per limited scope (a key, user, project or organisation):
 *   tg:spend:<scope>   hash: `all` (spent all time), `p:<window>` (spent in a recurring window)
 *   tg:lease:<scope>   hash: instance → USD it holds (leased, not yet spent)
 *   tg:leasex:<scope>  sorted set: instance → when its lease expires (ms)
 *
 * Invariant: spent + Σ leases ≤ limit, checked whenever a lease grows, for the all-time limit and
 * the current window's. An instance admits requests only against its own lease (in memory), so
 * what all instances admit together is bounded by the limit. Settled spend moves from the lease
 * to `all` in one step (lease_sync), so nothing is counted twice or not at all. A lease not
 * renewed within its TTL (a dead instance) is dropped by the next script that touches the scope.
 */

/** Expired leases of a scope are dropped; returns Redis's time in ms. KEYS[2]=lease, KEYS[3]=expiry. */
const SWEEP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, member in ipairs(expired) do redis.call('HDEL', KEYS[2], member) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now) end
local function held()
  local sum = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[2])) do sum = sum + tonumber(v) end
  return sum
end
local function keep(ttl)
  redis.call('PEXPIRE', KEYS[1], 604800000)
  redis.call('PEXPIRE', KEYS[2], 86400000)
  redis.call('PEXPIRE', KEYS[3], 86400000)
  redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
end
`;

/**
 * Seeds a scope's counters from the usage records (only where Redis has none: the first instance
 * wins), and forgets windows other than the current one.
 * KEYS: spend. ARGV: all, periodField ('' when not recurring), periodSpent.
 */
export const LEASE_INIT = `
redis.call('HSETNX', KEYS[1], 'all', ARGV[1])
if ARGV[2] ~= '' then
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, 2) == 'p:' and field ~= ARGV[2] then redis.call('HDEL', KEYS[1], field) end
  end
  redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], 604800000)
return 1
`;

/**
 * Grows this instance's lease by at least `need` (when that fits) and by up to `fraction` of what
 * is left unleased, never past the room. Re-asserts `mine` if Redis lost this instance's lease
 * (expired, or Redis restarted) while requests it covers are still in flight.
 * KEYS: spend, lease, expiry. ARGV: instance, ttlMs, allLimit (''), periodField (''), periodLimit,
 * need, fraction, mine. Returns {'init'} when the counters must be seeded first, else
 * {'ok', granted, allSpent, periodSpent, heldByAll}.
 */
export const LEASE_ACQUIRE = `${SWEEP}
local all = redis.call('HGET', KEYS[1], 'all')
if not all then return {'init'} end
local period = 0
if ARGV[4] ~= '' then
  local p = redis.call('HGET', KEYS[1], ARGV[4])
  if not p then return {'init'} end
  period = tonumber(p)
end
all = tonumber(all)
local mine = tonumber(ARGV[8])
if mine > 0 and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then redis.call('HSET', KEYS[2], ARGV[1], mine) end
local total = held()
local room = math.huge
if ARGV[3] ~= '' then room = tonumber(ARGV[3]) - all - total end
if ARGV[4] ~= '' then room = math.min(room, tonumber(ARGV[5]) - period - total) end
local need = tonumber(ARGV[6])
local grant = 0
if room > 0 and room >= need then
  grant = math.min(room, math.max(need, room * tonumber(ARGV[7])))
end
if grant > 0 then
  redis.call('HINCRBYFLOAT', KEYS[2], ARGV[1], grant)
  total = total + grant
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then keep(tonumber(ARGV[2])) end
return {'ok', tostring(grant), tostring(all), tostring(period), tostring(total)}
`;

/**
 * Moves `spent` from this instance's lease to the spent counters, gives back `giveBack` in all
 * (spent plus anything returned unused), and renews the lease. If Redis lost the lease, `mine`
 * (what the instance still holds) is re-asserted. Returns {'init'} when the counters are gone
 * (Redis restarted): the spend is in the usage records the next seeding reads.
 * KEYS: spend, lease, expiry. ARGV: instance, ttlMs, spent, periodField (''), giveBack, mine.
 */
export const LEASE_SYNC = `${SWEEP}
if redis.call('HEXISTS', KEYS[1], 'all') == 0 then return {'init'} end
local spent = tonumber(ARGV[3])
if spent > 0 then
  redis.call('HINCRBYFLOAT', KEYS[1], 'all', spent)
  if ARGV[4] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[4]) == 1 then
    redis.call('HINCRBYFLOAT', KEYS[1], ARGV[4], spent)
  end
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  local left = tonumber(redis.call('HINCRBYFLOAT', KEYS[2], ARGV[1], 0 - tonumber(ARGV[5])))
  if left <= 1e-12 then
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('ZREM', KEYS[3], ARGV[1])
  else
    keep(tonumber(ARGV[2]))
  end
elseif tonumber(ARGV[6]) > 0 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[6])
  keep(tonumber(ARGV[2]))
end
local period = 0
if ARGV[4] ~= '' then period = tonumber(redis.call('HGET', KEYS[1], ARGV[4]) or '0') end
return {'ok', redis.call('HGET', KEYS[1], 'all'), tostring(period), tostring(held())}
`;

/**
 * Requests per minute, as leases of request counts in the current fixed minute; the limit is
 * checked against the sliding estimate (previous minute × the part of it still in the window,
 * plus the current minute). Granted requests count at once, so leases can never add up past the
 * limit; unused ones are given back (rate_sync). Also reads the token counts for tpm.
 * KEYS: requests this minute, requests last minute, tokens this minute, tokens last minute.
 * ARGV: weight of last minute, rpm ('' when none), fraction, minimum wanted.
 * Returns {granted, current, previous, tokensCurrent, tokensPrevious}.
 */
export const RATE_ACQUIRE = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local tcur = tonumber(redis.call('GET', KEYS[3]) or '0')
local tprev = tonumber(redis.call('GET', KEYS[4]) or '0')
local grant = 0
if ARGV[2] ~= '' then
  local room = math.floor(tonumber(ARGV[2]) - prev * tonumber(ARGV[1]) - cur + 1e-9)
  if room >= tonumber(ARGV[4]) and room >= 1 then
    grant = math.min(room, math.max(tonumber(ARGV[4]), math.floor(room * tonumber(ARGV[3]))))
    redis.call('INCRBY', KEYS[1], grant)
    redis.call('PEXPIRE', KEYS[1], 180000)
    cur = cur + grant
  end
end
return {tostring(grant), tostring(cur), tostring(prev), tostring(tcur), tostring(tprev)}
`;

/** Gives back unused requests of a minute and adds tokens used. KEYS: requests, tokens. ARGV: giveBack, tokens. */
export const RATE_SYNC = `
local back = tonumber(ARGV[1])
if back > 0 then
  local left = tonumber(redis.call('DECRBY', KEYS[1], back))
  if left < 0 then redis.call('SET', KEYS[1], 0, 'PX', 180000) end
end
local tokens = tonumber(ARGV[2])
if tokens > 0 then
  redis.call('INCRBY', KEYS[2], tokens)
  redis.call('PEXPIRE', KEYS[2], 180000)
end
return 1
`;

const SLOT_SWEEP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, member in ipairs(expired) do redis.call('HDEL', KEYS[1], member) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
`;

/**
 * Concurrency slots, leased like budgets: grows this instance's slots by at least one (when one
 * is free across instances) and by up to `fraction` of the free ones; slots of an instance that
 * stopped renewing are dropped first. Invariant: Σ slots held ≤ max.
 * KEYS: slots (instance → held), expiry. ARGV: instance, ttlMs, max, fraction. Returns the count granted.
 */
export const SLOT_ACQUIRE = `${SLOT_SWEEP}
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
local room = tonumber(ARGV[3]) - total
if room < 1 then return 0 end
local grant = math.min(room, math.max(1, math.floor(room * tonumber(ARGV[4]))))
redis.call('HINCRBY', KEYS[1], ARGV[1], grant)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('PEXPIRE', KEYS[2], 86400000)
return grant
`;

/**
 * Gives back `released` slots of this instance and renews the rest; if Redis lost them (expired,
 * or restarted), re-asserts `held`, the slots its requests still occupy.
 * KEYS: slots, expiry. ARGV: instance, ttlMs, released, held.
 */
export const SLOT_SYNC = `${SLOT_SWEEP}
local left = tonumber(ARGV[4])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  left = tonumber(redis.call('HINCRBY', KEYS[1], ARGV[1], 0 - tonumber(ARGV[3])))
elseif left > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], left)
end
if left > 0 then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
`;
