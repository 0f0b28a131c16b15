// Launch target; see STYLE layout.
