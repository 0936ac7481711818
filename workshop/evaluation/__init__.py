"""Evaluation per stage: the programme's questionnaire, participants' responses, the results."""
