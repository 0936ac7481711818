"""The attendance record: per stage and per programme, live dashboard, overrides, exports."""
