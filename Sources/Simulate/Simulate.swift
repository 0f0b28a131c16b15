// Simulate target; see STYLE layout.
