"""Showing, printing, saving and emailing the PDF documents services build."""
