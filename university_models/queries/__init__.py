"""Read side: functions that answer one screen's or one report's question
with an aggregate query and return a bounded pandas DataFrame. Every function
takes a session and a university id; nothing here writes."""
