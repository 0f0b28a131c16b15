// Report target; see STYLE layout.
