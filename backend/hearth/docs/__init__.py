"""Chat with your documents: ingest, chunk, embed (llama.cpp), store (chromadb), retrieve."""
