"""What tests share: tiny random-weight models, synthetic attention, page and notebook runners."""
