"""Reliability under churn, hangs, hostile input and load; read-only proven by audit."""
