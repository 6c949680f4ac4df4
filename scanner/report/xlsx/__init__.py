"""report/xlsx"""
