"""`mapgate`, the operator CLI: `plan` offline (tree, cost, findings, picture), and the Automation API commands."""
