from tests.cases.conftest import bamako_officer, beirut_officer, eager_tasks

__all__ = ["bamako_officer", "beirut_officer", "eager_tasks"]
