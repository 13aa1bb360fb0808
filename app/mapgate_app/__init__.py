"""The mapgate sample service: shows which task answered, and elects a leader through Cloud Map."""
