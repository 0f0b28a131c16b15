// Monitor target; see STYLE layout.
