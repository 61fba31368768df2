"""PDF documents for patients and insurers, laid out with reportlab. No Qt, no database.

One module per document (payment_receipt, invoice_receipt, statement, package_visit,
superbill), each taking plain data and returning the PDF's bytes; layout.py holds the look
they share and fonts.py the typeface. services.patient_documents reads the data and calls them.
"""
