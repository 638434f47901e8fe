//! Cross-module suites of kvlab live in this folder; this library is empty on purpose.
