-- Removes an account, its subject's entry and its consents, if the account of that username
-- has that subject. KEYS: the accounts, the subjects, the subject's consents. ARGV: username,
-- sub. 1 if removed.
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
return 1
