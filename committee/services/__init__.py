"""Every write of the committee's workspace, one module per area. Services check permission
themselves. Import from the module: `from committee.services.reports import report_file`."""
