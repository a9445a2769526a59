-- What each import did to one record: a revert that puts a record back exactly as an
-- earlier import left it hands the record back to that import, so the earlier import
-- can still be reverted whole (import A, update by import B, revert B, revert A).
CREATE INDEX import_items_record ON import_items(record_id);
