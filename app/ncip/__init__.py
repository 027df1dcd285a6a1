"""NCIP (NISO Z39.83-1, version 2.02): the library's ILL system drives the desk's services."""
