from crm.models.companies import Company, LifecycleStage
from crm.models.contacts import Contact
from crm.models.deals import Deal, DealStageChange, Pipeline, Stage

__all__ = ["Company", "Contact", "Deal", "DealStageChange", "LifecycleStage", "Pipeline", "Stage"]
