"""The index: embed texts (embed), keep chunks and vectors in Chroma (store), BM25 (lexical), hybrid search (retrieve)."""
