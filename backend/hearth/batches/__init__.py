"""OpenAI's Batch API: uploaded files, batches and their request lines in SQLite, answered in the
background by the same code as the /v1 routes, so a restart resumes a batch where it was."""
