"""The visual Turing test (paper 4.3) as a local web app: blinded, resumable reader studies with a
link per rater, and the statistics of their answers. Needs the ``turing`` extra."""
