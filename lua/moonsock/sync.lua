-- Synchronisation objects for tasks (filled in by the sync work item).
return {}
