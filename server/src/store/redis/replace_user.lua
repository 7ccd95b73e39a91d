-- Replaces an account's record, if the account of that username still has that subject (it
-- was not removed and its username taken again meanwhile). KEYS: the accounts, the subjects.
-- ARGV: username, sub, record. 1 if replaced.
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
