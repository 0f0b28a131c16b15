// Measure target; see STYLE layout.
