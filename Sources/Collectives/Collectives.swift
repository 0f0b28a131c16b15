// Collectives target; see STYLE layout.
