"""Pure compliance rules: pre-call gate, utterance guard, redaction, audit chain, phone hashing."""
