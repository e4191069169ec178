from django.urls import path

from crm.views import board

urlpatterns = [
    path("deals/board/", board.deal_board, name="deal_board"),
    path("deals/<int:pk>/move/", board.deal_move, name="deal_move"),
]
