from crm.models.activities import Note, Task
from crm.models.companies import Company
from crm.models.configuration import LifecycleStage, ObjectType, PropertyDefinition
from crm.models.contacts import Contact
from crm.models.deals import Deal, DealStageChange, Pipeline, Stage
from crm.models.imports import ImportJob, ImportRowError
from crm.models.saved_views import CrmList, CrmListMember

__all__ = [
    "Company",
    "Contact",
    "CrmList",
    "CrmListMember",
    "Deal",
    "DealStageChange",
    "ImportJob",
    "ImportRowError",
    "LifecycleStage",
    "Note",
    "ObjectType",
    "Pipeline",
    "PropertyDefinition",
    "Stage",
    "Task",
]
