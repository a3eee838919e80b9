-- Issue 19: each exception request on an item gets a number (1, 2, … per item); a decision names
-- the request it decides, so a request rewritten or replaced since the decider read it is a
-- conflict, never approved unseen.
ALTER TABLE campaign_items ADD COLUMN exception_request_id BIGINT;
UPDATE campaign_items SET exception_request_id = 1 WHERE exception_state IS NOT NULL;
